/**
 * Pictures of DropBlock: {@code mask} (Figure 1 of arXiv 1810.12890 on a real image), {@code demo}
 * (the realised drop rate and an ASCII mask) and a training run's {@code curves.png}.
 */
package io.github.dropblock4j.cli.figure;

/** DropBlock (arXiv 1810.12890) for Deeplearning4j. */
package io.github.dropblock4j.dl4j;

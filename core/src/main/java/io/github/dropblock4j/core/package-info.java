/**
 * The mathematics of DropBlock (Ghiasi, Lin and Le, NeurIPS 2018, arXiv 1810.12890) with no
 * deep-learning dependency: the mask geometry with clipped block sizes ({@link
 * io.github.dropblock4j.core.BlockGeometry}), the seed probability gamma ({@link
 * io.github.dropblock4j.core.DropBlockGamma}), the host-side mask sampler ({@link
 * io.github.dropblock4j.core.BlockSeeds}) and the option enums.
 */
package io.github.dropblock4j.core;

package io.github.dropblock4j.core;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * Test support: checks that a painted mask is a union of whole blocks whose seeds lie in the valid
 * region. Shared with the adapters' tests, through {@code DropBlockContract}, in this module's test
 * jar.
 */
public final class MaskStructure {

    private MaskStructure() {}

    /**
     * Reconstructs the candidate seeds of every mask, the valid positions whose whole block is
     * zero, and fails unless every zero of the mask is covered by one of them.
     *
     * @param mask {@code numMasks} consecutive masks, row-major
     * @param numMasks how many masks
     * @param geometry the geometry of one mask
     */
    public static void assertUnionOfValidBlocks(
            float[] mask, int numMasks, BlockGeometry geometry) {
        int rank = geometry.rank();
        int area = Math.toIntExact(geometry.area());
        int[] stride = new int[rank];
        int s = 1;
        for (int d = rank - 1; d >= 0; d--) {
            stride[d] = s;
            s *= geometry.size(d);
        }
        for (int m = 0; m < numMasks; m++) {
            int offset = m * area;
            boolean[] covered = new boolean[area];
            int[] seed = new int[rank];
            for (long v = 0; v < geometry.validCount(); v++) {
                long rest = v;
                for (int d = rank - 1; d >= 0; d--) {
                    seed[d] = (int) (rest % geometry.validExtent(d));
                    rest /= geometry.validExtent(d);
                }
                if (blockIsZero(mask, offset, seed, stride, geometry, null)) {
                    blockIsZero(mask, offset, seed, stride, geometry, covered);
                }
            }
            for (int i = 0; i < area; i++) {
                if (mask[offset + i] == 0f && !covered[i]) {
                    fail(
                            "mask "
                                    + m
                                    + ": zero at unit "
                                    + i
                                    + " is not inside an all-zero block"
                                    + " with a valid seed, "
                                    + geometry);
                }
            }
        }
    }

    // Returns whether the block at seed is all zero; when covered is given, marks its units.
    private static boolean blockIsZero(
            float[] mask,
            int offset,
            int[] seed,
            int[] stride,
            BlockGeometry g,
            boolean[] covered) {
        int rank = g.rank();
        int[] at = new int[rank];
        while (true) {
            int index = 0;
            for (int d = 0; d < rank; d++) {
                index += (seed[d] + at[d]) * stride[d];
            }
            if (covered != null) {
                covered[index] = true;
            } else if (mask[offset + index] != 0f) {
                return false;
            }
            int d = rank - 1;
            while (d >= 0 && ++at[d] == g.block(d)) {
                at[d] = 0;
                d--;
            }
            if (d < 0) {
                return true;
            }
        }
    }
}

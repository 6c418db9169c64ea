package io.github.dropblock4j.core;

import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The seed probability gamma of DropBlock (arXiv 1810.12890), computed from the drop probability
 * {@code p = 1 - keep_prob} and the mask's {@link BlockGeometry}.
 *
 * <p>{@link GammaMode#CALIBRATED} solves {@code mean_x(1 - (1 - gamma)^k(x)) = p} by bisection, so
 * the expected fraction of zeroed units is exactly {@code p}; {@link GammaMode#PAPER} is equation
 * (1) of the paper. Results are cached per (geometry, p, mode); the class is thread safe.
 */
public final class DropBlockGamma {

    // Bisection on [0, 1] halves the bracket each step; 64 steps reach double precision.
    private static final int BISECTION_STEPS = 64;
    // Distinct (geometry, p) pairs in one network are few; the bound only guards misuse.
    private static final int CACHE_LIMIT = 4096;
    private static final Map<Key, Double> CACHE = new ConcurrentHashMap<>();

    private DropBlockGamma() {}

    /**
     * Checks a drop probability: it must be a number in [0, 1).
     *
     * @param dropProb the drop probability, {@code 1 - keep_prob}
     * @throws IllegalArgumentException naming the value when it is NaN or out of range
     */
    public static void checkDropProb(double dropProb) {
        if (!(dropProb >= 0 && dropProb < 1)) {
            throw new IllegalArgumentException("dropProb must be in [0, 1), got " + dropProb);
        }
    }

    /**
     * Returns gamma, the probability that a valid position is a seed.
     *
     * @param geometry the mask's geometry
     * @param dropProb the drop probability, in [0, 1)
     * @param mode how gamma is derived
     * @return gamma, in [0, 1]
     * @throws IllegalArgumentException if {@code dropProb} is out of range
     */
    public static double gamma(BlockGeometry geometry, double dropProb, GammaMode mode) {
        checkDropProb(dropProb);
        Objects.requireNonNull(mode, "mode");
        if (dropProb == 0) {
            return 0;
        }
        Key key = new Key(geometry, dropProb, mode);
        Double cached = CACHE.get(key);
        if (cached != null) {
            return cached;
        }
        double gamma =
                mode == GammaMode.PAPER
                        ? paper(geometry, dropProb)
                        : calibrated(geometry, dropProb);
        if (CACHE.size() >= CACHE_LIMIT) {
            CACHE.clear();
        }
        CACHE.put(key, gamma);
        return gamma;
    }

    private static double paper(BlockGeometry geometry, double dropProb) {
        double gamma = dropProb / geometry.blockArea();
        for (int d = 0; d < geometry.rank(); d++) {
            gamma *= (double) geometry.size(d) / geometry.validExtent(d);
        }
        return Math.min(gamma, 1.0);
    }

    private static double calibrated(BlockGeometry geometry, double dropProb) {
        // The expected drop fraction f rises monotonically in gamma. Every position is covered by
        // between 1 and blockArea valid seeds, so 1 - (1 - g)^k lies in [g, blockArea * g]: f(p /
        // blockArea) <= p <= f(p). Bisecting that bracket keeps relative precision for tiny p.
        double lo = dropProb / geometry.blockArea();
        double hi = dropProb;
        for (int i = 0; i < BISECTION_STEPS && hi - lo > 0; i++) {
            double mid = 0.5 * (lo + hi);
            if (mid == lo || mid == hi) {
                break;
            }
            if (geometry.expectedDropFraction(mid) < dropProb) {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        return 0.5 * (lo + hi);
    }

    private static final class Key {
        private final BlockGeometry geometry;
        private final double dropProb;
        private final GammaMode mode;

        Key(BlockGeometry geometry, double dropProb, GammaMode mode) {
            this.geometry = geometry;
            this.dropProb = dropProb;
            this.mode = mode;
        }

        @Override
        public boolean equals(Object o) {
            if (!(o instanceof Key)) {
                return false;
            }
            Key k = (Key) o;
            return geometry.equals(k.geometry)
                    && Double.compare(dropProb, k.dropProb) == 0
                    && mode == k.mode;
        }

        @Override
        public int hashCode() {
            return Objects.hash(geometry, dropProb, mode);
        }
    }
}

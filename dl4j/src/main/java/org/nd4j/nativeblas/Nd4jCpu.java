package org.nd4j.nativeblas;

import io.github.dropblock4j.dl4j.OneDnn;

/**
 * A stand-in, under the name Deeplearning4j 1.0.0-M2 looks up, for ND4J's {@code Nd4jCpu}, so that
 * DL4J's oneDNN helpers can engage. Not for direct use; see {@link OneDnn}.
 *
 * <p>Why it exists: before DL4J 1.0.0-M2 creates a oneDNN helper for a layer, {@code
 * BaseMKLDNNHelper.mklDnnEnabled()} loads {@code org.nd4j.nativeblas.Nd4jCpu$Environment} by name
 * and calls {@code getInstance().isUseMKLDNN()} on it. ND4J 1.0.0-M2 moved that class to {@code
 * org.nd4j.linalg.cpu.nativecpu.bindings.Nd4jCpu$Environment} and renamed the method {@code
 * isUseONEDNN}; DL4J takes the missing class for "oneDNN is not in use" and runs every convolution
 * and batch normalization on its slower built-in code, even with ND4J's oneDNN library loaded. A
 * class under the old name that forwards the question is the smallest fix: it changes no DL4J or
 * ND4J class, is looked up only by that check, and answers it truthfully ({@link
 * OneDnn#inNativeLibrary()}: no without a native library built with oneDNN).
 *
 * <p>When it can go: when this project moves to a DL4J release whose {@code BaseMKLDNNHelper} asks
 * ND4J's current class (the test {@code OneDnnTest} then passes without this class). It must not be
 * used with an ND4J older than 1.0.0-M2, which has a class of this name of its own.
 */
public final class Nd4jCpu {

    private Nd4jCpu() {}

    /** The one method of ND4J's old {@code Nd4jCpu.Environment} that DL4J 1.0.0-M2 calls. */
    public static final class Environment {

        private static final Environment INSTANCE = new Environment();

        private Environment() {}

        /**
         * Returns the instance, as ND4J's old class did.
         *
         * @return the one instance
         */
        public static Environment getInstance() {
            return INSTANCE;
        }

        /**
         * Returns whether ND4J's native library has oneDNN and uses it.
         *
         * @return {@link OneDnn#inNativeLibrary()}
         */
        public boolean isUseMKLDNN() {
            return OneDnn.inNativeLibrary();
        }
    }
}

package io.github.dropblock4j.dl4j;

import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.nativeblas.NativeOps;
import org.nd4j.nativeblas.NativeOpsHolder;

/**
 * Sizes the native threads that ND4J's CPU backend, and oneDNN's kernels inside it, use for the
 * calling Java thread, so that a training step does not ask for more threads than the machine has
 * cores.
 *
 * <p>Why it is needed: ND4J 1.0.0-M2 sets OpenMP's thread count of the thread that loads it from
 * JavaCPP's count of cores per chip, which on a 2-core virtual machine is 4, whatever {@code
 * OMP_NUM_THREADS} says; every other thread starts with OpenMP's default (the cores, or {@code
 * OMP_NUM_THREADS}). OpenMP keeps this count per thread. With oneDNN's convolutions, 4 threads on 2
 * cores made a ResNet-20 training step 1.5 times slower than 2 (docs/performance.md). {@link
 * #limit(int)} sets the calling thread's OpenMP count and OpenBLAS's threads, which are the
 * process's. ND4J's own pool for its element-wise loops is sized once, from {@code OMP_NUM_THREADS}
 * or the cores, when it loads ({@code Environment.setMaxThreads} does nothing in 1.0.0-M2); threads
 * side by side share it rather than each taking it whole.
 *
 * <p>Call it on the thread that trains, after ND4J has loaded; it loads ND4J otherwise. The
 * process-wide settings are shared by all threads.
 */
public final class Nd4jThreads {

    private Nd4jThreads() {}

    /**
     * Limits ND4J's native threads: OpenMP's for the calling thread, and OpenBLAS's for the
     * process.
     *
     * @param threads the threads, at least 1; usually the cores ({@code availableProcessors()}), or
     *     the cores divided by the threads that train side by side
     * @throws IllegalArgumentException if {@code threads} is below 1
     */
    public static void limit(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        }
        Nd4j.factory().blas().setMaxThreads(threads);
        limitThisThread(threads);
    }

    /**
     * Limits OpenMP's threads for the calling thread only, for threads that train side by side once
     * {@link #limit(int)} has set OpenBLAS's.
     *
     * @param threads the threads, at least 1
     * @throws IllegalArgumentException if {@code threads} is below 1
     */
    public static void limitThisThread(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        }
        nativeOps().setOmpNumThreads(threads);
    }

    /**
     * Returns the OpenMP threads that ND4J's native code uses for the calling thread.
     *
     * @return OpenMP's maximum threads for this thread
     */
    public static int ofThisThread() {
        return nativeOps().ompGetMaxThreads();
    }

    // NativeOpsHolder fails unless ND4J has initialised first.
    private static NativeOps nativeOps() {
        Nd4j.getEnvironment();
        return NativeOpsHolder.getInstance().getDeviceNativeOps();
    }
}

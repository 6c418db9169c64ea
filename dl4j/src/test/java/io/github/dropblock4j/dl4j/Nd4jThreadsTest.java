package io.github.dropblock4j.dl4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.blas.Blas;
import org.nd4j.linalg.factory.Nd4j;

class Nd4jThreadsTest {

    @Test
    void limitSetsThisThreadsOpenMpAndTheProcessBlas() throws Exception {
        Blas blas = Nd4j.factory().blas();
        int blasThreads = blas.getMaxThreads();
        int openMp = Nd4jThreads.ofThisThread();
        try {
            Nd4jThreads.limit(1);
            assertEquals(1, Nd4jThreads.ofThisThread());
            assertEquals(1, blas.getMaxThreads());
            // OpenMP's count is the calling thread's: another thread keeps its own.
            int[] other = new int[2];
            Thread thread =
                    new Thread(
                            () -> {
                                Nd4jThreads.limitThisThread(3);
                                other[0] = Nd4jThreads.ofThisThread();
                            });
            thread.start();
            thread.join();
            other[1] = Nd4jThreads.ofThisThread();
            assertEquals(3, other[0]);
            assertEquals(1, other[1]);
        } finally {
            blas.setMaxThreads(blasThreads);
            Nd4jThreads.limitThisThread(openMp);
        }
    }

    @Test
    void fewerThanOneThreadIsRejectedNamingIt() {
        assertEquals(
                "threads must be >= 1, got 0",
                assertThrows(IllegalArgumentException.class, () -> Nd4jThreads.limit(0))
                        .getMessage());
        assertEquals(
                "threads must be >= 1, got -2",
                assertThrows(IllegalArgumentException.class, () -> Nd4jThreads.limitThisThread(-2))
                        .getMessage());
    }
}

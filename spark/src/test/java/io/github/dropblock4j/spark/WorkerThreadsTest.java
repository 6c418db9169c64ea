package io.github.dropblock4j.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.dropblock4j.dl4j.Nd4jThreads;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.nd4j.linalg.api.blas.Blas;
import org.nd4j.linalg.factory.Nd4j;

class WorkerThreadsTest {

    @ParameterizedTest
    @CsvSource({
        // master, workers, cores, side by side, threads each
        "local[2], 2, 2, 2, 1",
        "local[2], 2, 16, 2, 8",
        "local[2], 2, 3, 2, 1",
        "local[4], 2, 8, 2, 4",
        "local[2], 5, 4, 2, 2",
        "local[*], 3, 8, 3, 2",
        "local[*], 16, 4, 4, 1",
        "local, 4, 4, 1, 4",
        "'local[2,3]', 2, 4, 2, 2",
    })
    void workersTimesThreadsStayWithinTheCores(
            String master, int workers, int cores, int sideBySide, int threads) {
        WorkerThreads choice = WorkerThreads.choose(master, workers, cores);
        assertTrue(choice.isLocal());
        assertEquals(sideBySide, choice.sideBySide());
        assertEquals(threads, choice.threadsPerWorker());
        assertTrue(choice.sideBySide() * choice.threadsPerWorker() <= cores, choice.toString());
    }

    @Test
    void saysWhatItChose() {
        assertEquals(
                "2 workers side by side x 1 native thread on 2 cores",
                WorkerThreads.choose("local[2]", 2, 2).toString());
        assertEquals(
                "1 worker x 4 native threads on 4 cores",
                WorkerThreads.choose("local", 1, 4).toString());
        assertEquals(
                "8 workers on the executors of spark://host:7077, spark.task.cpus native threads"
                        + " each (spark.executor.cores / spark.task.cpus side by side per"
                        + " executor)",
                WorkerThreads.choose("spark://host:7077", 8, 2).toString());
    }

    @Test
    void clusterMastersAreLeftToTheirExecutors() {
        WorkerThreads choice = WorkerThreads.choose("yarn", 64, 2);
        assertFalse(choice.isLocal());
        assertEquals(0, choice.threadsPerWorker());
        int before = Nd4jThreads.ofThisThread();
        choice.apply();
        assertEquals(before, Nd4jThreads.ofThisThread());
    }

    // Leaves the JVM's task threads at one native thread each, as this module's surefire
    // settings (OMP_NUM_THREADS=1) have them anyway.
    @Test
    void applyLimitsNd4jsThreadsInThisJvmAndOnEveryTaskThread() throws Exception {
        Blas blas = Nd4j.factory().blas();
        int blasThreads = blas.getMaxThreads();
        int openMp = Nd4jThreads.ofThisThread();
        try {
            WorkerThreads.choose("local[2]", 2, 2).apply();
            assertEquals(1, blas.getMaxThreads());
            assertEquals(1, Nd4jThreads.ofThisThread());
            int[] seen = new int[2];
            Thread task =
                    new Thread(
                            () -> {
                                Nd4jThreads.limitThisThread(3);
                                seen[0] = Nd4jThreads.ofThisThread();
                                WorkerThreads.sizeThisWorkerThread();
                                seen[1] = Nd4jThreads.ofThisThread();
                            });
            task.start();
            task.join();
            assertEquals(3, seen[0]);
            assertEquals(1, seen[1]);
        } finally {
            blas.setMaxThreads(blasThreads);
            Nd4jThreads.limitThisThread(openMp);
        }
    }

    @Test
    void moreWorkersSideBySideThanCoresIsRejected() {
        assertEquals(
                "workers must train side by side on at most the 2 cores of this machine, got 4"
                        + " (4 workers on local[4])",
                assertThrows(
                                IllegalArgumentException.class,
                                () -> WorkerThreads.choose("local[4]", 4, 2))
                        .getMessage());
    }

    @Test
    void badArgumentsAreRejectedNamingThem() {
        assertEquals(
                "workers must be >= 1, got 0",
                assertThrows(
                                IllegalArgumentException.class,
                                () -> WorkerThreads.choose("local[2]", 0, 2))
                        .getMessage());
        assertEquals(
                "cores must be >= 1, got 0",
                assertThrows(
                                IllegalArgumentException.class,
                                () -> WorkerThreads.choose("local[2]", 2, 0))
                        .getMessage());
        assertEquals(
                "master must be a Spark master URL, got  ",
                assertThrows(IllegalArgumentException.class, () -> WorkerThreads.choose(" ", 2, 2))
                        .getMessage());
        assertEquals(
                "master must have a task count that fits an int, got local[99999999999]",
                assertThrows(
                                IllegalArgumentException.class,
                                () -> WorkerThreads.choose("local[99999999999]", 2, 2))
                        .getMessage());
    }

    @Test
    void comparesByContent() {
        assertEquals(
                WorkerThreads.choose("local[2]", 2, 4), WorkerThreads.choose("local[2]", 2, 4));
        assertEquals(
                WorkerThreads.choose("local[2]", 2, 4).hashCode(),
                WorkerThreads.choose("local[2]", 2, 4).hashCode());
        assertNotEquals(
                WorkerThreads.choose("local[2]", 2, 4), WorkerThreads.choose("local[2]", 2, 2));
    }
}

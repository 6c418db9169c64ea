package io.github.dropblock4j.cli.data;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.github.dropblock4j.cli.input.BadInputException;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Hostile and damaged files for both readers: every case must end in data or a {@link
 * BadInputException} naming a file, within a time limit, and without allocating more than a
 * reader's fixed buffers, whatever sizes the file declares.
 */
class ReaderFuzzTest {

    // 3 targets x 5 mutations x 80 cases = 1200 cases, a third of them per encoding.
    private static final int CASES = 80;
    private static final long BASE_SEED = 20181029L;
    // A case reads at most a few kilobytes in about a millisecond: a second is a defect, and
    // the 80 cases of one test not ending in 30 s a hang.
    private static final Duration CASE_TIME_LIMIT = Duration.ofSeconds(1);
    private static final Duration HANG_LIMIT = Duration.ofSeconds(30);
    // The readers' own buffers (three of 64 KiB, a first chunk of 64 KiB, the inflater) stay
    // far below this; a reader that allocated what a hostile header declares would need up to
    // IdxReader.MAX_DATA_BYTES.
    private static final long ALLOCATION_LIMIT_BYTES = 8L << 20;
    private static final int[] EXTREME_SIZES = {
        0, 1, 0x7fffffff, 0xffffffff, 0x80000000, 0x10000000, 0x20000001, 65535, 3073
    };
    private static final byte[] GZIP_MAGIC = {0x1f, (byte) 0x8b};

    private static com.sun.management.ThreadMXBean threads;

    enum Target {
        IDX_IMAGES,
        IDX_LABELS,
        CIFAR
    }

    enum Mutation {
        TRUNCATE,
        EXTREME_FIELDS,
        RANDOM_BYTES,
        FLIP_BITS,
        APPEND
    }

    enum Encoding {
        PLAIN,
        GZIP_OF_MUTATED,
        MUTATED_GZIP
    }

    @TempDir Path dir;

    @BeforeAll
    static void allocationCounter() {
        threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        assumeTrue(threads.isThreadAllocatedMemorySupported(), "allocation counting");
        threads.setThreadAllocatedMemoryEnabled(true);
    }

    static Stream<Arguments> targetsAndMutations() {
        return Arrays.stream(Target.values())
                .flatMap(t -> Arrays.stream(Mutation.values()).map(m -> Arguments.of(t, m)));
    }

    @ParameterizedTest
    @MethodSource("targetsAndMutations")
    void everyDamagedFileEndsInDataOrBadInput(Target target, Mutation mutation) {
        // A hang is stopped here and reported with the case it hung in.
        AtomicReference<String> current = new AtomicReference<>("no case");
        assertTimeoutPreemptively(
                HANG_LIMIT,
                () -> {
                    for (int i = 0; i < CASES; i++) {
                        long seed =
                                BASE_SEED
                                        + 1000L * (target.ordinal() * 10 + mutation.ordinal())
                                        + i;
                        Encoding encoding = Encoding.values()[i % Encoding.values().length];
                        current.set(target + " " + mutation + " " + encoding + " case " + i);
                        runCase(
                                current.get(),
                                target,
                                mutation,
                                encoding,
                                new SplittableRandom(seed));
                    }
                },
                () -> current.get() + ": did not end within " + HANG_LIMIT);
    }

    private void runCase(
            String name,
            Target target,
            Mutation mutation,
            Encoding encoding,
            SplittableRandom random) {
        int count = 1 + random.nextInt(6);
        byte[] valid;
        byte[] companion = null;
        if (target == Target.CIFAR) {
            valid = SyntheticData.cifarRecords(count, random.nextInt(10), random.nextLong());
        } else {
            byte[] images =
                    SyntheticData.idxImages(
                            count, 1 + random.nextInt(8), 1 + random.nextInt(8), random.nextLong());
            byte[] labels = SyntheticData.idxLabels(count, 10);
            valid = target == Target.IDX_IMAGES ? images : labels;
            companion = target == Target.IDX_IMAGES ? labels : images;
        }
        byte[] bytes;
        // Header fields are changed before compression, the other mutations after it too.
        if (encoding == Encoding.MUTATED_GZIP && mutation != Mutation.EXTREME_FIELDS) {
            bytes = mutate(SyntheticData.gzip(valid), mutation, target, random, true);
        } else {
            bytes = mutate(valid, mutation, target, random, false);
            if (encoding != Encoding.PLAIN) {
                bytes = SyntheticData.gzip(bytes);
            }
        }
        // A new file per case: overwriting one makes ext4 flush it to disk on every close.
        String fileName = name.replace(' ', '-');
        Path file = SyntheticData.write(dir, fileName, bytes);
        Path other =
                companion == null
                        ? null
                        : SyntheticData.write(
                                dir,
                                fileName + "-companion",
                                random.nextBoolean() ? companion : SyntheticData.gzip(companion));
        Path images = target == Target.IDX_IMAGES ? file : other;
        Path labels = target == Target.IDX_IMAGES ? other : file;
        long before = threads.getCurrentThreadAllocatedBytes();
        long start = System.nanoTime();
        try {
            if (target == Target.CIFAR) {
                Cifar10Reader.read(List.of(file), name);
            } else {
                IdxReader.read(images, labels, name, DataSource.DIGIT_CLASSES);
            }
        } catch (BadInputException e) {
            String message = e.getMessage();
            assertTrue(message.contains(dir.toString()), name + ": " + message);
            assertFalse(message.contains("\n"), name + ": " + message);
        } catch (Throwable t) {
            fail(name + ": neither data nor BadInputException", t);
        }
        Duration took = Duration.ofNanos(System.nanoTime() - start);
        assertTrue(took.compareTo(CASE_TIME_LIMIT) < 0, name + ": took " + took);
        long allocated = threads.getCurrentThreadAllocatedBytes() - before;
        assertTrue(
                allocated < ALLOCATION_LIMIT_BYTES, name + ": allocated " + allocated + " bytes");
    }

    private static byte[] mutate(
            byte[] valid,
            Mutation mutation,
            Target target,
            SplittableRandom random,
            boolean compressed) {
        switch (mutation) {
            case TRUNCATE:
                return Arrays.copyOf(valid, random.nextInt(valid.length));
            case EXTREME_FIELDS:
                return extremeFields(valid, target, random);
            case RANDOM_BYTES:
                byte[] noise = SyntheticData.randomBytes(random.nextInt(2000), random.nextLong());
                // Half the time, a plausible start, so the noise reaches past the first check.
                if (random.nextBoolean()) {
                    byte[] start = compressed ? GZIP_MAGIC : Arrays.copyOf(valid, 4);
                    System.arraycopy(start, 0, noise, 0, Math.min(start.length, noise.length));
                }
                return noise;
            case FLIP_BITS:
                byte[] flipped = valid.clone();
                int flips = 1 + random.nextInt(8);
                for (int f = 0; f < flips; f++) {
                    flipped[random.nextInt(flipped.length)] ^= (byte) (1 << random.nextInt(8));
                }
                return flipped;
            case APPEND:
                return SyntheticData.concat(
                        valid,
                        SyntheticData.randomBytes(1 + random.nextInt(100), random.nextLong()));
            default:
                throw new AssertionError(mutation);
        }
    }

    /**
     * IDX: the height set to the limit's largest, or one to three dimensions set to extreme sizes;
     * CIFAR: random label bytes.
     */
    private static byte[] extremeFields(byte[] valid, Target target, SplittableRandom random) {
        byte[] bytes = valid.clone();
        if (target == Target.CIFAR) {
            for (int r = 0; r < bytes.length; r += Cifar10Reader.RECORD_BYTES) {
                bytes[r] = (byte) random.nextInt(256);
            }
            return bytes;
        }
        ByteBuffer header = ByteBuffer.wrap(bytes);
        int dims = target == Target.IDX_IMAGES ? 3 : 1;
        if (dims == 3 && random.nextInt(3) == 0) {
            // The largest height the limit allows, the count unchanged so that the labels agree:
            // only the end of the data can stop the read.
            long others = (long) header.getInt(4) * header.getInt(12);
            header.putInt(8, (int) (IdxReader.MAX_DATA_BYTES / others));
            return bytes;
        }
        int changes = 1 + random.nextInt(dims);
        for (int c = 0; c < changes; c++) {
            int dim = random.nextInt(dims);
            int size =
                    random.nextBoolean()
                            ? EXTREME_SIZES[random.nextInt(EXTREME_SIZES.length)]
                            : random.nextInt();
            header.putInt(4 + 4 * dim, size);
        }
        return bytes;
    }
}

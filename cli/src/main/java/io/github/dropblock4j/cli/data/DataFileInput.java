package io.github.dropblock4j.cli.data;

import io.github.dropblock4j.cli.input.BadInputException;
import java.io.BufferedInputStream;
import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.OptionalLong;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * The bytes of one data file, gzip-compressed or not, read so that a hostile file can cost no more
 * memory than its data: every failure is a {@link BadInputException} whose message starts with the
 * file's description ("images file /x/train-images-idx3-ubyte.gz").
 *
 * <p>Compression is detected by the gzip magic bytes {@code 1f 8b}, never by the file name. The
 * length of the (uncompressed) data is known up front for a plain file, and unknown for gzip data
 * or a class-path resource: there, {@link #readExactly} grows its buffer as data arrives instead of
 * trusting a size read from the file. Not thread safe.
 */
final class DataFileInput implements Closeable {

    private static final int GZIP_MAGIC_1 = 0x1f;
    private static final int GZIP_MAGIC_2 = 0x8b;
    private static final int BUFFER_BYTES = 1 << 16;
    // First buffer of a read whose size the input cannot vouch for; doubled as data arrives.
    private static final int FIRST_CHUNK_BYTES = 1 << 16;

    private final String description;
    private final InputStream in;
    private final OptionalLong length;
    private long position;

    private DataFileInput(String description, InputStream in, OptionalLong length) {
        this.description = description;
        this.in = in;
        this.length = length;
    }

    /**
     * Opens a file.
     *
     * @param kind what the file should hold, e.g. "images file"
     * @param file the file
     * @return the opened input
     * @throws BadInputException if the file is missing, not a regular file or unreadable
     */
    static DataFileInput open(String kind, Path file) {
        String description = kind + " " + file;
        if (!Files.exists(file)) {
            throw new BadInputException(description + ": no such file");
        }
        if (!Files.isRegularFile(file)) {
            // A directory, a FIFO or a device would fail or block on read.
            throw new BadInputException(description + ": not a regular file");
        }
        try {
            long size = Files.size(file);
            return wrap(description, Files.newInputStream(file), OptionalLong.of(size));
        } catch (IOException e) {
            throw new BadInputException(description + ": cannot read (" + reason(e) + ")", e);
        }
    }

    /**
     * Opens a stream of unknown length, such as a class-path resource; takes ownership of it.
     *
     * @param description the file's description for messages, e.g. "images file embedded:x"
     * @param stream the stream
     * @return the opened input
     * @throws BadInputException if the stream cannot be read
     */
    static DataFileInput open(String description, InputStream stream) {
        try {
            return wrap(description, stream, OptionalLong.empty());
        } catch (IOException e) {
            throw new BadInputException(description + ": cannot read (" + reason(e) + ")", e);
        }
    }

    private static DataFileInput wrap(String description, InputStream raw, OptionalLong rawLength)
            throws IOException {
        BufferedInputStream buffered = new BufferedInputStream(raw, BUFFER_BYTES);
        try {
            buffered.mark(2);
            int first = buffered.read();
            int second = buffered.read();
            buffered.reset();
            if (first == GZIP_MAGIC_1 && second == GZIP_MAGIC_2) {
                return new DataFileInput(
                        description,
                        new GZIPInputStream(buffered, BUFFER_BYTES),
                        OptionalLong.empty());
            }
            return new DataFileInput(description, buffered, rawLength);
        } catch (ZipException | EOFException e) {
            buffered.close();
            throw new BadInputException(description + ": corrupt gzip data (" + reason(e) + ")", e);
        } catch (IOException | RuntimeException e) {
            buffered.close();
            throw e;
        }
    }

    /**
     * Returns the file's description, which starts every message.
     *
     * @return the description, e.g. "labels file /x/t10k-labels-idx1-ubyte"
     */
    String description() {
        return description;
    }

    /**
     * Returns the number of (uncompressed) bytes read so far.
     *
     * @return the position
     */
    long position() {
        return position;
    }

    /**
     * Creates an exception whose message is this file's description, a colon and the problem.
     *
     * @param problem what was wrong, with the value seen
     * @return the exception, for the caller to throw
     */
    BadInputException error(String problem) {
        return new BadInputException(description + ": " + problem);
    }

    /**
     * Reads a big-endian 32-bit integer of a header.
     *
     * @param headerBytes the header's full length, for the message on a short file
     * @return the integer
     * @throws BadInputException if the data ends first
     */
    int readHeaderInt(int headerBytes) {
        byte[] four = new byte[4];
        int got = fill(four, 0, 4);
        if (got < 4) {
            throw error(
                    "truncated header: the data ends after "
                            + position
                            + " bytes, the header has "
                            + headerBytes);
        }
        return ((four[0] & 0xff) << 24)
                | ((four[1] & 0xff) << 16)
                | ((four[2] & 0xff) << 8)
                | (four[3] & 0xff);
    }

    /**
     * Reads exactly {@code count} bytes. The buffer grows with the data that arrives, so a count
     * taken from a hostile header costs memory only once the data is really there.
     *
     * @param count how many bytes, at most {@link Integer#MAX_VALUE} - 8 (the caller checked it
     *     against its limit)
     * @param what what the bytes are, for the message on a short file, e.g. "60000 images of 28 x
     *     28"
     * @return the bytes
     * @throws BadInputException if the data ends first
     */
    byte[] readExactly(long count, String what) {
        if (count < 0 || count > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException(
                    "count must be in [0, " + (Integer.MAX_VALUE - 8) + "], got " + count);
        }
        if (length.isPresent() && count > length.getAsLong() - position) {
            // Caught before allocating: a plain file cannot hold what its header declares.
            throw error(
                    "truncated: "
                            + what
                            + " need "
                            + count
                            + " bytes from byte "
                            + position
                            + ", the file has "
                            + (length.getAsLong() - position));
        }
        long start = position;
        int n = (int) count;
        byte[] buffer = new byte[length.isPresent() ? n : Math.min(n, FIRST_CHUNK_BYTES)];
        int filled = 0;
        while (filled < n) {
            if (filled == buffer.length) {
                buffer = Arrays.copyOf(buffer, (int) Math.min(n, 2L * buffer.length));
            }
            int got = fill(buffer, filled, buffer.length - filled);
            filled += got;
            if (filled < buffer.length) {
                throw error(
                        "truncated: the data ends at byte "
                                + (start + filled)
                                + ", "
                                + filled
                                + " bytes into the "
                                + count
                                + " that "
                                + what
                                + " need");
            }
        }
        return buffer;
    }

    /**
     * Reads the rest of the data, at most {@code maxBytes} of it.
     *
     * @param maxBytes the most bytes accepted, at most {@link Integer#MAX_VALUE} - 8
     * @return the bytes up to the end of the data
     * @throws BadInputException if there are more than {@code maxBytes}
     */
    byte[] readToEnd(long maxBytes) {
        if (length.isPresent()) {
            long rest = length.getAsLong() - position;
            if (rest > maxBytes) {
                throw error(tooLarge(rest, maxBytes));
            }
            return readExactly(rest, "the file");
        }
        byte[] buffer = new byte[(int) Math.min(maxBytes + 1, FIRST_CHUNK_BYTES)];
        int filled = 0;
        while (true) {
            if (filled == buffer.length) {
                if (filled > maxBytes) {
                    throw error(tooLarge(filled, maxBytes));
                }
                buffer = Arrays.copyOf(buffer, (int) Math.min(maxBytes + 1, 2L * buffer.length));
            }
            int got = fill(buffer, filled, buffer.length - filled);
            filled += got;
            if (filled < buffer.length) {
                return Arrays.copyOf(buffer, filled);
            }
        }
    }

    /**
     * Checks that the data ends here.
     *
     * @param what what the data so far held, e.g. "the 47040016 bytes the header declares"
     * @throws BadInputException if there is more
     */
    void expectEnd(String what) {
        if (length.isPresent()) {
            long extra = length.getAsLong() - position;
            if (extra > 0) {
                throw error("trailing data: " + extra + " bytes after " + what);
            }
            return;
        }
        byte[] one = new byte[1];
        if (fill(one, 0, 1) > 0) {
            throw error("trailing data after " + what);
        }
    }

    private static String reason(IOException e) {
        return e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
    }

    private static String tooLarge(long bytes, long maxBytes) {
        return "more than " + maxBytes + " bytes of data (the limit), found at least " + bytes;
    }

    /** Reads until {@code len} bytes or the end of the data; returns how many were read. */
    private int fill(byte[] buffer, int offset, int len) {
        try {
            int total = 0;
            while (total < len) {
                int got = in.read(buffer, offset + total, len - total);
                if (got < 0) {
                    break;
                }
                total += got;
            }
            position += total;
            return total;
        } catch (ZipException | EOFException e) {
            // Bad deflate data, a bad trailer checksum, or a gzip stream cut short.
            throw new BadInputException(description + ": corrupt gzip data (" + reason(e) + ")", e);
        } catch (IOException e) {
            throw new BadInputException(description + ": cannot read (" + reason(e) + ")", e);
        }
    }

    /** Closes the underlying stream; a failure to close is ignored, as every byte was read. */
    @Override
    public void close() {
        try {
            in.close();
        } catch (IOException e) {
            // Nothing was lost: the data was read (or its error reported) before closing.
        }
    }
}

package dev.distillery.data;

import dev.distillery.error.DistilleryException;
import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * Reads image classification data in the IDX format of MNIST and Fashion-MNIST (format {@code idx}):
 * split "train" from {@code train-*}, "test" from {@code t10k-*}, gray images held in memory.
 *
 * <p>An IDX file is a big-endian header, {@code 0x0000 TT DD} (TT the element type, 0x08 for
 * uint8; DD the number of dimensions), one int32 per dimension, then the elements row-major. Images
 * are {@code 0x00000803} (count, rows, columns), labels {@code 0x00000801} (count). Files may be
 * gzip-compressed; that is recognised by the gzip magic bytes, not the file name.
 */
public final class IdxReader implements DatasetReader {

    static final int IMAGES_MAGIC = 0x00000803;
    static final int LABELS_MAGIC = 0x00000801;

    private static final int GZIP_MAGIC = 0x1f8b;
    private static final Path FASHION_MNIST_DIR = Paths.get("/usr/share/datasets/fashion-mnist");

    private final DatasetConfig config;

    /** The reader of a configured IDX dataset, whose class names the configuration must give. */
    public IdxReader(DatasetConfig config) {
        if (config.labels().isEmpty()) {
            throw new IllegalArgumentException(config.key("labels")
                    + " is required for format idx: the class names in label order, comma-separated");
        }
        this.config = config;
    }

    @Override
    public List<String> classNames() {
        return config.labels();
    }

    @Override
    public ImageSet read(String split) throws IOException {
        return readSplit(config.directory(), split);
    }

    /**
     * Reads the {@code "train"} (train-*) or {@code "test"} (t10k-*) split of a directory holding
     * {@code <prefix>-images-idx3-ubyte} and {@code <prefix>-labels-idx1-ubyte}, each optionally
     * ending in {@code .gz}.
     *
     * @throws DistilleryException NOT_FOUND when a file is missing, INVALID_ARGUMENT for an unknown
     *     split or a malformed file
     * @throws IOException when a file exists but cannot be read
     */
    public static ImageSet readSplit(Path dir, String split) throws IOException {
        String prefix = switch (split) {
            case "train" -> "train";
            case "test" -> "t10k";
            default -> throw DistilleryException.invalid(
                    "split must be \"train\" or \"test\", got \"%s\"", split);
        };
        String imagesName = prefix + "-images-idx3-ubyte";
        String labelsName = prefix + "-labels-idx1-ubyte";
        Path images = find(dir, imagesName);
        Path labels = find(dir, labelsName);
        if (images == null || labels == null) {
            String hint = dir.toAbsolutePath().normalize().equals(FASHION_MNIST_DIR)
                    ? "; install Fashion-MNIST with `apt-get install -y dataset-fashion-mnist`"
                    : "";
            throw DistilleryException.notFound(
                    "dataset directory %s lacks the %s split: expected %s[.gz] and %s[.gz]%s",
                    dir, split, imagesName, labelsName, hint);
        }
        return read(images, labels);
    }

    /**
     * Reads an images file and its labels file.
     *
     * @throws DistilleryException INVALID_ARGUMENT when either file is malformed or their counts
     *     differ
     * @throws IOException when a file cannot be read
     */
    public static ImageSet read(Path imagesFile, Path labelsFile) throws IOException {
        try (DataInputStream images = open(imagesFile);
                DataInputStream labels = open(labelsFile)) {
            int count = readHeader(images, imagesFile, IMAGES_MAGIC, "uint8 images, 3 dimensions");
            int rows = readDimension(images, imagesFile, "rows");
            int columns = readDimension(images, imagesFile, "columns");
            int labelCount = readHeader(labels, labelsFile, LABELS_MAGIC, "uint8 labels, 1 dimension");
            if (labelCount != count) {
                throw DistilleryException.invalid(
                        "%s holds %d images but %s holds %d labels", imagesFile.getFileName(), count,
                        labelsFile.getFileName(), labelCount);
            }
            long pixelCount = (long) count * rows * columns;
            if (pixelCount > Integer.MAX_VALUE - 8) {
                throw DistilleryException.invalid(
                        "%s: %d images of %d x %d are more than one array can hold",
                        imagesFile.getFileName(), count, rows, columns);
            }
            byte[] pixels = readBody(images, imagesFile, (int) pixelCount);
            byte[] labelBytes = readBody(labels, labelsFile, count);
            int[] labelValues = new int[count];
            for (int i = 0; i < count; i++) {
                labelValues[i] = labelBytes[i] & 0xff;
            }
            return new ImageSet(count, 1, rows, columns, pixels, labelValues);
        }
    }

    private static Path find(Path dir, String name) {
        for (Path candidate : new Path[] {dir.resolve(name), dir.resolve(name + ".gz")}) {
            if (Files.isRegularFile(candidate)) {
                return candidate;
            }
        }
        return null;
    }

    private static DataInputStream open(Path file) throws IOException {
        InputStream in = new BufferedInputStream(Files.newInputStream(file), 1 << 16);
        in.mark(2);
        int magic = (in.read() << 8) | in.read();
        in.reset();
        try {
            return new DataInputStream(magic == GZIP_MAGIC ? new GZIPInputStream(in, 1 << 16) : in);
        } catch (ZipException | EOFException e) {
            in.close();
            throw DistilleryException.invalid(
                    "%s: starts like gzip but its header is corrupt", file.getFileName());
        }
    }

    /** Checks the magic number and returns the first dimension, the item count. */
    private static int readHeader(DataInputStream in, Path file, int expectedMagic, String meaning)
            throws IOException {
        int magic = readInt(in, file, "magic number");
        if (magic != expectedMagic) {
            throw DistilleryException.invalid(
                    "%s: magic number 0x%08x, expected 0x%08x (%s)", file.getFileName(), magic,
                    expectedMagic, meaning);
        }
        int count = readInt(in, file, "item count");
        if (count < 0) {
            throw DistilleryException.invalid("%s: negative item count %d", file.getFileName(), count);
        }
        return count;
    }

    private static int readDimension(DataInputStream in, Path file, String what) throws IOException {
        int size = readInt(in, file, what);
        if (size <= 0) {
            throw DistilleryException.invalid("%s: %s must be > 0, got %d", file.getFileName(), what, size);
        }
        return size;
    }

    private static int readInt(DataInputStream in, Path file, String what) throws IOException {
        try {
            return in.readInt();
        } catch (EOFException | ZipException e) {
            throw DistilleryException.invalid("%s: file ends before the %s", file.getFileName(), what);
        }
    }

    /** Reads exactly {@code length} bytes and checks that nothing follows them. */
    private static byte[] readBody(DataInputStream in, Path file, int length) throws IOException {
        byte[] body = new byte[length];
        try {
            in.readFully(body);
        } catch (EOFException | ZipException e) {
            throw DistilleryException.invalid(
                    "%s: truncated or corrupt, the header promises %d bytes of data", file.getFileName(),
                    length);
        }
        if (in.read() != -1) {
            throw DistilleryException.invalid(
                    "%s: data continues past the %d bytes the header promises", file.getFileName(), length);
        }
        return body;
    }
}

package dev.distillery.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.distillery.error.DistilleryException;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Arrays;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IdxReaderTest {

    private static final byte[] PIXELS = {0, 1, 2, 3, 4, 5, (byte) 200, (byte) 255, 8, 9, 10, 11};
    private static final int[] LABELS = {7, 0};

    private static final Path FASHION_MNIST = Paths.get("/usr/share/datasets/fashion-mnist");

    @TempDir
    Path dir;

    @Test
    void readsPlainFiles() throws IOException {
        write("train-images-idx3-ubyte", false, images(IdxReader.IMAGES_MAGIC, 2, 2, 3, PIXELS));
        write("train-labels-idx1-ubyte", false, labels(IdxReader.LABELS_MAGIC, LABELS));

        assertRoundTrip(IdxReader.readSplit(dir, "train"));
    }

    @Test
    void detectsGzipByItsMagicNotItsName() throws IOException {
        // Compressed under the plain name, plain under the .gz name: the content decides.
        write("t10k-images-idx3-ubyte", true, images(IdxReader.IMAGES_MAGIC, 2, 2, 3, PIXELS));
        write("t10k-labels-idx1-ubyte.gz", false, labels(IdxReader.LABELS_MAGIC, LABELS));

        assertRoundTrip(IdxReader.readSplit(dir, "test"));
    }

    @Test
    void readsGzippedFiles() throws IOException {
        write("i.gz", true, images(IdxReader.IMAGES_MAGIC, 2, 2, 3, PIXELS));
        write("l.gz", true, labels(IdxReader.LABELS_MAGIC, LABELS));

        assertRoundTrip(IdxReader.read(dir.resolve("i.gz"), dir.resolve("l.gz")));
    }

    @Test
    void rejectsABadMagicNumber() throws IOException {
        assertInvalid("i: magic number 0x00000801, expected 0x00000803 (uint8 images, 3 dimensions)",
                images(IdxReader.LABELS_MAGIC, 2, 2, 3, PIXELS), labels(IdxReader.LABELS_MAGIC, LABELS));
    }

    @Test
    void rejectsCountsThatDiffer() throws IOException {
        assertInvalid("i holds 2 images but l holds 3 labels",
                images(IdxReader.IMAGES_MAGIC, 2, 2, 3, PIXELS),
                labels(IdxReader.LABELS_MAGIC, new int[] {1, 2, 3}));
    }

    @Test
    void rejectsAnEmptyDimension() throws IOException {
        assertInvalid("i: rows must be > 0, got 0",
                images(IdxReader.IMAGES_MAGIC, 2, 0, 3, PIXELS), labels(IdxReader.LABELS_MAGIC, LABELS));
    }

    @Test
    void rejectsOverlongData() throws IOException {
        assertInvalid("i: data continues past the 8 bytes the header promises",
                images(IdxReader.IMAGES_MAGIC, 2, 2, 2, PIXELS), labels(IdxReader.LABELS_MAGIC, LABELS));
    }

    @Test
    void rejectsTruncatedGzippedData() throws IOException {
        write("i", true, images(IdxReader.IMAGES_MAGIC, 2, 2, 4, PIXELS));
        write("l", false, labels(IdxReader.LABELS_MAGIC, LABELS));

        assertInvalid("i: truncated or corrupt, the header promises 16 bytes of data");
    }

    @Test
    void namesTheMissingFiles() {
        DistilleryException e =
                assertThrows(DistilleryException.class, () -> IdxReader.readSplit(dir, "train"));

        assertEquals(DistilleryException.Kind.NOT_FOUND, e.kind());
        assertEquals("dataset directory " + dir + " lacks the train split:"
                + " expected train-images-idx3-ubyte[.gz] and train-labels-idx1-ubyte[.gz]", e.getMessage());
    }

    @Test
    void suggestsThePackageForFashionMnist() {
        assumeFalse(Files.isDirectory(FASHION_MNIST), "Fashion-MNIST is installed, so nothing is missing");
        DistilleryException e =
                assertThrows(DistilleryException.class, () -> IdxReader.readSplit(FASHION_MNIST, "test"));

        assertEquals(DistilleryException.Kind.NOT_FOUND, e.kind());
        String hint = "install Fashion-MNIST with `apt-get install -y dataset-fashion-mnist`";
        assertTrue(e.getMessage().endsWith(hint), e.getMessage());
    }

    @Test
    void readsTheInstalledFashionMnistTestSplit() throws IOException {
        assumeTrue(Files.isDirectory(FASHION_MNIST), "Fashion-MNIST is not installed");
        ImageSet test = IdxReader.readSplit(FASHION_MNIST, "test");

        assertEquals(10_000, test.count());
        assertEquals(28, test.height());
        assertEquals(28, test.width());
        assertEquals(1000, Arrays.stream(test.labels()).filter(label -> label == 9).count());
    }

    @Test
    void rejectsAnUnknownSplit() {
        DistilleryException e = assertThrows(DistilleryException.class, () -> IdxReader.readSplit(dir, "val"));

        assertEquals(DistilleryException.Kind.INVALID_ARGUMENT, e.kind());
        assertEquals("split must be \"train\" or \"test\", got \"val\"", e.getMessage());
    }

    private void assertInvalid(String message, byte[] imagesFile, byte[] labelsFile) throws IOException {
        write("i", false, imagesFile);
        write("l", false, labelsFile);
        assertInvalid(message);
    }

    private void assertInvalid(String message) {
        DistilleryException e = assertThrows(
                DistilleryException.class, () -> IdxReader.read(dir.resolve("i"), dir.resolve("l")));
        assertEquals(DistilleryException.Kind.INVALID_ARGUMENT, e.kind());
        assertEquals(message, e.getMessage());
    }

    private static void assertRoundTrip(ImageSet images) {
        assertEquals(2, images.count());
        assertEquals(1, images.channels());
        assertEquals(2, images.height());
        assertEquals(3, images.width());
        assertArrayEquals(PIXELS, images.pixels());
        assertArrayEquals(LABELS, images.labels());
    }

    private static byte[] images(int magic, int count, int rows, int columns, byte[] pixels)
            throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(bytes);
        out.writeInt(magic);
        out.writeInt(count);
        out.writeInt(rows);
        out.writeInt(columns);
        out.write(pixels);
        return bytes.toByteArray();
    }

    private static byte[] labels(int magic, int[] labels) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(bytes);
        out.writeInt(magic);
        out.writeInt(labels.length);
        for (int label : labels) {
            out.writeByte(label);
        }
        return bytes.toByteArray();
    }

    private void write(String name, boolean gzip, byte[] content) throws IOException {
        try (OutputStream file = Files.newOutputStream(dir.resolve(name));
                OutputStream out = gzip ? new GZIPOutputStream(file) : file) {
            out.write(content);
        }
    }
}

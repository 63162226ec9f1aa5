package dev.distillery.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.distillery.error.DistilleryException;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImageFolderReaderTest {

    @TempDir
    Path dir;

    private static BufferedImage gray(int width, int height, int offset) {
        BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_BYTE_GRAY);
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                image.getRaster().setSample(x, y, 0, (offset + 7 * (y * width + x)) % 256);
            }
        }
        return image;
    }

    private static BufferedImage rgb(int width, int height) {
        BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                image.setRGB(x, y, (40 * x) << 16 | (40 * y) << 8 | 200);
            }
        }
        return image;
    }

    private Path write(String relative, BufferedImage image, String format) throws IOException {
        Path file = dir.resolve(relative);
        Files.createDirectories(file.getParent());
        assertTrue(ImageIO.write(image, format, file.toFile()));
        return file;
    }

    private ImageFolderReader reader(List<String> labels) {
        return new ImageFolderReader(new DatasetConfig("f", "imagefolder", dir, labels,
                Optional.of(dir.resolve("unlabelled")), CifarReader.FINE));
    }

    private void writeTree() throws IOException {
        write("train/cat/a.png", gray(6, 5, 3), "png");
        write("train/cat/sub/b.png", rgb(6, 5), "png");
        write("train/dog/c.jpg", rgb(6, 5), "jpg");
        Files.writeString(dir.resolve("train/dog/notes.txt"), "not an image");
        write("train/.cache/x.png", gray(6, 5, 0), "png");
        write("test/dog/d.png", gray(6, 5, 9), "png");
        write("unlabelled/u1.png", gray(6, 5, 1), "png");
        write("unlabelled/more/u2.png", gray(6, 5, 2), "png");
    }

    @Test
    void sortedClassFoldersAreTheLabelsAndPixelsAreExact() throws IOException {
        writeTree();
        ImageFolderReader reader = reader(List.of());

        assertEquals(List.of("cat", "dog"), reader.classNames());
        ImageFiles train = reader.read("train");
        assertEquals(3, train.count());
        assertEquals(List.of(0, 0, 1), List.of(train.label(0), train.label(1), train.label(2)));
        assertEquals(dir.resolve("train/cat/a.png"), train.file(0));

        Pixels a = train.image(0);
        assertEquals(new ImageShape(1, 5, 6), a.shape());
        for (int i = 0; i < 30; i++) {
            assertEquals((3 + 7 * i) % 256, a.values()[i] & 0xff, "gray pixel " + i);
        }
        Pixels b = train.image(1);
        assertEquals(new ImageShape(3, 5, 6), b.shape());
        assertEquals(List.of(160, 120, 200), List.of(b.get(0, 3, 4), b.get(1, 3, 4), b.get(2, 3, 4)));
        // JPEG is lossy: the right size and colour, values near the drawn ones.
        Pixels c = train.image(2);
        assertEquals(new ImageShape(3, 5, 6), c.shape());
        assertTrue(Math.abs(c.get(2, 2, 2) - 200) < 40, "blue " + c.get(2, 2, 2));

        assertEquals(new ImageShape(3, 5, 6), train.shape());
        ImageFiles test = reader.read("test");
        assertEquals(1, test.count());
        assertEquals(1, test.label(0));
    }

    @Test
    void theUnlabelledFolderGivesImagesWithLabelMinusOne() throws IOException {
        writeTree();
        ImageSource unlabelled = reader(List.of()).unlabelled().orElseThrow();
        assertEquals(2, unlabelled.count());
        assertEquals(-1, unlabelled.label(0));
        assertEquals(-1, unlabelled.label(1));
        assertArrayEquals(ImageDecoder.read(dir.resolve("unlabelled/more/u2.png")).values(), unlabelled.image(0).values());
    }

    @Test
    void configuredNamesRenameTheFoldersOneForOne() throws IOException {
        writeTree();
        assertEquals(List.of("Cat", "Dog"), reader(List.of("Cat", "Dog")).classNames());
        DistilleryException e = assertThrows(DistilleryException.class, () -> reader(List.of("Cat")).classNames());
        assertEquals(DistilleryException.Kind.FAILED_PRECONDITION, e.kind());
        assertTrue(e.getMessage().contains("names 1 classes but"), e.getMessage());
    }

    @Test
    void imagesOfDifferentSizesHaveNoCommonSize() throws IOException {
        write("train/a/1.png", gray(6, 5, 0), "png");
        write("train/b/2.png", gray(7, 5, 0), "png");
        ImageShape shape = reader(List.of()).read("train").shape();
        assertFalse(shape.uniformSize());
        assertEquals(1, shape.channels());
    }

    @Test
    void theShapeComesFromTheHeadersWithoutDecodingAnImage() throws IOException {
        Path file = write("train/a/1.png", gray(6, 5, 0), "png");
        AtomicInteger decoded = new AtomicInteger();
        ImageFiles files = new ImageFiles(List.of(file, file), new int[] {0, 0},
                path -> {
                    decoded.incrementAndGet();
                    return ImageDecoder.read(path);
                }, ImageDecoder::header);
        assertEquals(new ImageShape(1, 5, 6), files.shape());
        assertEquals(0, decoded.get());
    }

    @Test
    void deeperGraySamplesAreScaledTo8Bits() throws IOException {
        BufferedImage image = new BufferedImage(2, 1, BufferedImage.TYPE_USHORT_GRAY);
        image.getRaster().setSample(0, 0, 0, 65535);
        image.getRaster().setSample(1, 0, 0, 257 * 100);
        Pixels pixels = ImageDecoder.read(write("deep.png", image, "png"));
        assertEquals(List.of(255, 100), List.of(pixels.get(0, 0, 0), pixels.get(0, 0, 1)));
    }

    @Test
    void aCorruptImageNamesItsFile() throws IOException {
        writeTree();
        Files.write(dir.resolve("train/dog/c.jpg"), new byte[] {(byte) 0xff, (byte) 0xd8, 1, 2, 3});
        ImageFiles train = reader(List.of()).read("train");

        DistilleryException e = assertThrows(DistilleryException.class, () -> train.image(2));
        assertEquals(DistilleryException.Kind.INVALID_ARGUMENT, e.kind());
        assertTrue(e.getMessage().contains("c.jpg could not be decoded"), e.getMessage());
    }

    @Test
    void missingFoldersAndUnknownClassesGetClearStatuses() throws IOException {
        DistilleryException none = assertThrows(DistilleryException.class, () -> reader(List.of()).classNames());
        assertEquals(DistilleryException.Kind.NOT_FOUND, none.kind());
        assertTrue(none.getMessage().contains("has no 'train' folder"), none.getMessage());

        writeTree();
        write("test/bird/e.png", gray(6, 5, 0), "png");
        DistilleryException bird = assertThrows(DistilleryException.class, () -> reader(List.of()).read("test"));
        assertEquals(DistilleryException.Kind.FAILED_PRECONDITION, bird.kind());
        assertTrue(bird.getMessage().contains("class folder 'bird'"), bird.getMessage());

        Files.delete(dir.resolve("test/dog/d.png"));
        Files.delete(dir.resolve("test/bird/e.png"));
        Files.delete(dir.resolve("test/bird"));
        DistilleryException empty = assertThrows(DistilleryException.class, () -> reader(List.of()).read("test"));
        assertEquals(DistilleryException.Kind.NOT_FOUND, empty.kind());
    }
}

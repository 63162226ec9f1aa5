package dev.distillery.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.distillery.error.DistilleryException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CifarReaderTest {

    @TempDir
    Path dir;

    /** One image's 3072 bytes: red, green, blue planes, each row-major. */
    private static byte[] image(long seed) {
        byte[] pixels = new byte[3072];
        new Random(seed).nextBytes(pixels);
        return pixels;
    }

    private void write(String file, int[][] labels, long firstSeed) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int i = 0; i < labels.length; i++) {
            for (int label : labels[i]) {
                out.write(label);
            }
            out.write(image(firstSeed + i));
        }
        Files.write(dir.resolve(file), out.toByteArray());
    }

    private CifarReader reader(List<String> labels, String which) {
        return new CifarReader(new DatasetConfig("c", "cifar", dir, labels, Optional.empty(), which));
    }

    private void writeCifar10() throws IOException {
        for (int b = 1; b <= 5; b++) {
            write("data_batch_" + b + ".bin", new int[][] {{b}, {9 - b}}, 10 * b);
        }
        write("test_batch.bin", new int[][] {{3}}, 100);
    }

    @Test
    void readsCifar10BatchesInOrderWithExactPixels() throws IOException {
        writeCifar10();
        CifarReader reader = reader(List.of(), CifarReader.FINE);

        ImageSet train = reader.read("train");
        assertEquals(List.of(10, 3, 32, 32), List.of(train.count(), train.channels(), train.height(), train.width()));
        assertArrayEquals(new int[] {1, 8, 2, 7, 3, 6, 4, 5, 5, 4}, train.labels());
        assertArrayEquals(image(10), train.image(0).values());
        assertArrayEquals(image(51), train.image(9).values());
        // Plane order: value (c, y, x) is byte c * 1024 + y * 32 + x of the record.
        assertEquals(image(20)[1024 + 5 * 32 + 7] & 0xff, train.image(2).get(1, 5, 7));
        ImageSet test = reader.read("test");
        assertArrayEquals(new int[] {3}, test.labels());
        assertArrayEquals(image(100), test.image(0).values());
        assertEquals(CifarReader.CIFAR10_NAMES, reader.classNames());
    }

    @Test
    void classNamesComeFromTheMetaFileWhenPresent() throws IOException {
        writeCifar10();
        Files.writeString(dir.resolve("batches.meta.txt"), "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n\n");
        assertEquals(List.of("a", "b", "c", "d", "e", "f", "g", "h", "i", "j"), reader(List.of(), "fine").classNames());
        assertEquals(List.of("x", "y"), reader(List.of("x", "y"), "fine").classNames());
    }

    @Test
    void readsCifar100FineOrCoarseLabels() throws IOException {
        write("train.bin", new int[][] {{4, 71}, {19, 0}}, 1);
        write("test.bin", new int[][] {{2, 99}}, 3);
        Files.writeString(dir.resolve("coarse_label_names.txt"), String.join("\n", java.util.Collections.nCopies(20, "k")));

        ImageSet fine = reader(List.of(), CifarReader.FINE).read("train");
        assertArrayEquals(new int[] {71, 0}, fine.labels());
        assertArrayEquals(image(2), fine.image(1).values());
        assertArrayEquals(new int[] {4, 19}, reader(List.of(), CifarReader.COARSE).read("train").labels());
        assertArrayEquals(new int[] {99}, reader(List.of(), CifarReader.FINE).read("test").labels());
        assertEquals(100, reader(List.of(), CifarReader.FINE).classNames().size());
        assertEquals("99", reader(List.of(), CifarReader.FINE).classNames().get(99));
        assertEquals(20, reader(List.of(), CifarReader.COARSE).classNames().size());
    }

    @Test
    void aTruncatedFileIsAnInvalidArgument() throws IOException {
        writeCifar10();
        byte[] whole = Files.readAllBytes(dir.resolve("data_batch_3.bin"));
        Files.write(dir.resolve("data_batch_3.bin"), java.util.Arrays.copyOf(whole, whole.length - 100));

        DistilleryException e = assertThrows(DistilleryException.class, () -> reader(List.of(), "fine").read("train"));
        assertEquals(DistilleryException.Kind.INVALID_ARGUMENT, e.kind());
        assertTrue(e.getMessage().contains("data_batch_3.bin has 6046 bytes, not a whole number of 3073-byte records"),
                e.getMessage());
    }

    @Test
    void missingFilesAreNotFound() throws IOException {
        DistilleryException none = assertThrows(DistilleryException.class, () -> reader(List.of(), "fine").read("train"));
        assertEquals(DistilleryException.Kind.NOT_FOUND, none.kind());
        assertTrue(none.getMessage().contains("neither CIFAR-10"), none.getMessage());

        writeCifar10();
        Files.delete(dir.resolve("test_batch.bin"));
        DistilleryException test = assertThrows(DistilleryException.class, () -> reader(List.of(), "fine").read("test"));
        assertEquals(DistilleryException.Kind.NOT_FOUND, test.kind());
        assertTrue(test.getMessage().contains("lacks test_batch.bin"), test.getMessage());
    }

    @Test
    void coarseLabelsOfCifar10AndUnknownLabelKindsAreRejected() throws IOException {
        writeCifar10();
        DistilleryException e = assertThrows(DistilleryException.class, () -> reader(List.of(), "coarse").read("train"));
        assertEquals(DistilleryException.Kind.FAILED_PRECONDITION, e.kind());
        IllegalArgumentException config = assertThrows(IllegalArgumentException.class, () -> reader(List.of(), "medium"));
        assertTrue(config.getMessage().contains("distillery.datasets.\"c\".cifar-labels must be 'fine' or 'coarse'"),
                config.getMessage());
    }
}

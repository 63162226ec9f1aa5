package dev.distillery.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.distillery.error.DistilleryException;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Each format behind the one interface, chosen by the configured {@code format}. */
class DatasetsTest {

    @TempDir
    Path dir;

    private static DatasetConfig config(String name, String format, Path directory, List<String> labels) {
        return new DatasetConfig(name, format, directory, labels, Optional.empty(), CifarReader.FINE);
    }

    private Path idx() throws IOException {
        Path idx = Files.createDirectories(dir.resolve("idx"));
        for (String prefix : List.of("train", "t10k")) {
            ByteArrayOutputStream images = new ByteArrayOutputStream();
            DataOutputStream out = new DataOutputStream(images);
            out.writeInt(IdxReader.IMAGES_MAGIC);
            out.writeInt(2);
            out.writeInt(2);
            out.writeInt(2);
            out.write(new byte[] {1, 2, 3, 4, 5, 6, 7, 8});
            Files.write(idx.resolve(prefix + "-images-idx3-ubyte"), images.toByteArray());
            ByteArrayOutputStream labels = new ByteArrayOutputStream();
            out = new DataOutputStream(labels);
            out.writeInt(IdxReader.LABELS_MAGIC);
            out.writeInt(2);
            out.write(new byte[] {1, 0});
            Files.write(idx.resolve(prefix + "-labels-idx1-ubyte"), labels.toByteArray());
        }
        return idx;
    }

    private Path cifar() throws IOException {
        Path cifar = Files.createDirectories(dir.resolve("cifar"));
        for (String file : List.of("data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin",
                "data_batch_5.bin", "test_batch.bin")) {
            byte[] record = new byte[3073];
            record[0] = 9;
            Files.write(cifar.resolve(file), record);
        }
        return cifar;
    }

    private Path folder() throws IOException {
        Path folder = dir.resolve("folder");
        for (String file : List.of("train/b/1.png", "train/a/2.png", "test/a/3.png")) {
            Files.createDirectories(folder.resolve(file).getParent());
            ImageIO.write(new BufferedImage(4, 4, BufferedImage.TYPE_INT_RGB), "png", folder.resolve(file).toFile());
        }
        Files.createDirectories(folder.resolve("extra"));
        ImageIO.write(new BufferedImage(4, 4, BufferedImage.TYPE_INT_RGB), "png", folder.resolve("extra/4.png").toFile());
        return folder;
    }

    @Test
    void theFormatKeyChoosesTheReader() throws IOException {
        Datasets datasets = new Datasets(List.of(
                config("digits", "idx", idx(), List.of("zero", "one")),
                config("tiny-cifar", "cifar", cifar(), List.of()),
                new DatasetConfig("pictures", "imagefolder", folder(), List.of(), Optional.of(dir.resolve("folder/extra")),
                        CifarReader.FINE)));

        assertEquals(new ImageShape(1, 2, 2), datasets.load("digits", "train").shape());
        assertTrue(datasets.load("digits", "train").inMemory());
        assertEquals(List.of("zero", "one"), datasets.get("digits").labels());

        assertEquals(new ImageShape(3, 32, 32), datasets.load("tiny-cifar", "train").shape());
        assertEquals(5, datasets.load("tiny-cifar", "train").count());
        assertEquals("truck", datasets.get("tiny-cifar").labels().get(9));

        ImageSource pictures = datasets.load("pictures", "train");
        assertTrue(pictures instanceof ImageFiles && !pictures.inMemory());
        assertEquals(List.of("a", "b"), datasets.get("pictures").labels());
        assertEquals("imagefolder", datasets.get("pictures").format());
        assertEquals(1, datasets.unlabelled("pictures").orElseThrow().count());
        assertTrue(datasets.unlabelled("digits").isEmpty());
        assertSame(pictures, datasets.load("pictures", "train"), "a listing is read once");
    }

    @Test
    void labelsWithoutAClassNameAreAPrecondition() throws IOException {
        Datasets datasets = new Datasets(List.of(config("digits", "idx", idx(), List.of("zero"))));
        DistilleryException e = assertThrows(DistilleryException.class, () -> datasets.load("digits", "train"));
        assertEquals(DistilleryException.Kind.FAILED_PRECONDITION, e.kind());
        assertTrue(e.getMessage().contains("has label 1 but 1 class names are configured"), e.getMessage());
    }

    @Test
    void configurationErrorsAreReportedAtStartup() {
        IllegalArgumentException format = assertThrows(IllegalArgumentException.class,
                () -> new Datasets(List.of(config("x", "tfrecord", dir, List.of("a")))));
        assertTrue(format.getMessage().contains("distillery.datasets.\"x\".format is 'tfrecord'; known formats: [cifar, idx, imagefolder]"),
                format.getMessage());
        IllegalArgumentException unlabelled = assertThrows(IllegalArgumentException.class, () -> new Datasets(List.of(
                new DatasetConfig("x", "idx", dir, List.of("a"), Optional.of(dir), CifarReader.FINE))));
        assertTrue(unlabelled.getMessage().contains("unlabelled-directory is for format imagefolder only"),
                unlabelled.getMessage());
        IllegalArgumentException labels = assertThrows(IllegalArgumentException.class,
                () -> new Datasets(List.of(config("x", "idx", dir, List.of()))));
        assertTrue(labels.getMessage().contains("labels is required for format idx"), labels.getMessage());
    }

    @Test
    void unknownDatasetsAndSplitsGetClearStatuses() throws IOException {
        Datasets datasets = new Datasets(List.of(config("digits", "idx", idx(), List.of("zero", "one"))));
        assertEquals(DistilleryException.Kind.NOT_FOUND,
                assertThrows(DistilleryException.class, () -> datasets.get("ghost")).kind());
        assertEquals(DistilleryException.Kind.INVALID_ARGUMENT,
                assertThrows(DistilleryException.class, () -> datasets.load("digits", "dev")).kind());
    }
}

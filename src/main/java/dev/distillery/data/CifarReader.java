package dev.distillery.data;

import dev.distillery.error.DistilleryException;
import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;

/**
 * Reads the binary versions of CIFAR-10 and CIFAR-100 (format {@code cifar}), held in memory as 3 x 32 x 32
 * RGB images.
 *
 * <p>A record is the label byte(s), then 1024 red, 1024 green and 1024 blue bytes, each plane row-major:
 * CIFAR-10 has one label byte ({@code data_batch_1.bin} .. {@code data_batch_5.bin} are "train",
 * {@code test_batch.bin} is "test"); CIFAR-100 has a coarse then a fine label byte ({@code train.bin},
 * {@code test.bin}), and {@code cifar-labels} chooses which. The directory is the one the archive
 * unpacks to ({@code cifar-10-batches-bin}, {@code cifar-100-binary}); which of the two it holds is told
 * by its files. Class names, unless configured: {@code batches.meta.txt} (CIFAR-10) or
 * {@code fine_label_names.txt} / {@code coarse_label_names.txt} (CIFAR-100) when present, else CIFAR-10's
 * ten names, or the label numbers for CIFAR-100.
 */
public final class CifarReader implements DatasetReader {

    public static final String FINE = "fine";
    public static final String COARSE = "coarse";

    static final int SIDE = 32;
    static final int IMAGE_BYTES = 3 * SIDE * SIDE;
    static final List<String> CIFAR10_NAMES = List.of(
            "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck");

    private final DatasetConfig config;

    public CifarReader(DatasetConfig config) {
        if (!config.cifarLabels().equals(FINE) && !config.cifarLabels().equals(COARSE)) {
            throw new IllegalArgumentException(String.format("%s must be '%s' or '%s', got '%s'",
                    config.key("cifar-labels"), FINE, COARSE, config.cifarLabels()));
        }
        this.config = config;
    }

    /** Which of the two CIFARs a directory holds. */
    private enum Layout {
        CIFAR10("data_batch_1.bin", 1, 10, "batches.meta.txt"),
        CIFAR100("train.bin", 2, 100, "fine_label_names.txt");

        final String marker;
        final int labelBytes;
        final int classes;
        final String namesFile;

        Layout(String marker, int labelBytes, int classes, String namesFile) {
            this.marker = marker;
            this.labelBytes = labelBytes;
            this.classes = classes;
            this.namesFile = namesFile;
        }
    }

    @Override
    public List<String> classNames() {
        if (!config.labels().isEmpty()) {
            return config.labels();
        }
        Layout layout = layout();
        boolean coarse = layout == Layout.CIFAR100 && config.cifarLabels().equals(COARSE);
        Path names = config.directory().resolve(coarse ? "coarse_label_names.txt" : layout.namesFile);
        if (Files.isRegularFile(names)) {
            try {
                return Files.readAllLines(names, StandardCharsets.UTF_8).stream()
                        .map(String::strip).filter(line -> !line.isEmpty()).toList();
            } catch (IOException e) {
                throw DistilleryException.precondition("cannot read %s: %s", names, e.getMessage());
            }
        }
        if (layout == Layout.CIFAR10) {
            return CIFAR10_NAMES;
        }
        return IntStream.range(0, coarse ? 20 : layout.classes).mapToObj(Integer::toString).toList();
    }

    @Override
    public ImageSet read(String split) throws IOException {
        Layout layout = layout();
        if (layout == Layout.CIFAR10 && config.cifarLabels().equals(COARSE)) {
            throw DistilleryException.precondition("%s is coarse, but %s holds CIFAR-10, which has one label per image",
                    config.key("cifar-labels"), config.directory());
        }
        List<Path> files = new ArrayList<>();
        if (layout == Layout.CIFAR10) {
            if (split.equals("train")) {
                IntStream.rangeClosed(1, 5).forEach(i -> files.add(config.directory().resolve("data_batch_" + i + ".bin")));
            } else {
                files.add(config.directory().resolve("test_batch.bin"));
            }
        } else {
            files.add(config.directory().resolve(split + ".bin"));
        }
        for (Path file : files) {
            if (!Files.isRegularFile(file)) {
                throw DistilleryException.notFound("CIFAR directory %s lacks %s, a file of its %s split",
                        config.directory(), file.getFileName(), split);
            }
        }
        return read(files, layout.labelBytes, config.cifarLabels().equals(COARSE) ? 0 : layout.labelBytes - 1);
    }

    private Layout layout() {
        for (Layout layout : Layout.values()) {
            if (Files.isRegularFile(config.directory().resolve(layout.marker))) {
                return layout;
            }
        }
        throw DistilleryException.notFound("%s holds neither CIFAR-10 (data_batch_1.bin .. data_batch_5.bin, "
                + "test_batch.bin) nor CIFAR-100 (train.bin, test.bin) in the binary version: set %s to the folder "
                + "the archive unpacks to", config.directory(), config.key("directory"));
    }

    /**
     * Reads whole records from {@code files}, in order.
     *
     * @param labelBytes label bytes before each image
     * @param labelAt which of them is the label
     */
    static ImageSet read(List<Path> files, int labelBytes, int labelAt) throws IOException {
        int recordBytes = labelBytes + IMAGE_BYTES;
        long total = 0;
        for (Path file : files) {
            long size = Files.size(file);
            if (size == 0 || size % recordBytes != 0) {
                throw DistilleryException.invalid(
                        "%s has %d bytes, not a whole number of %d-byte records (%d label byte(s), then 3072 pixel bytes)",
                        file.getFileName(), size, recordBytes, labelBytes);
            }
            total += size / recordBytes;
        }
        if (total * IMAGE_BYTES > Integer.MAX_VALUE - 8) {
            throw DistilleryException.invalid("%d CIFAR images are more than one array can hold", total);
        }
        int count = (int) total;
        byte[] pixels = new byte[count * IMAGE_BYTES];
        int[] labels = new int[count];
        byte[] label = new byte[labelBytes];
        int index = 0;
        for (Path file : files) {
            try (DataInputStream in = new DataInputStream(new BufferedInputStream(Files.newInputStream(file), 1 << 16))) {
                for (long i = Files.size(file) / recordBytes; i > 0; i--, index++) {
                    in.readFully(label);
                    labels[index] = label[labelAt] & 0xff;
                    in.readFully(pixels, index * IMAGE_BYTES, IMAGE_BYTES);
                }
            }
        }
        return new ImageSet(count, 3, SIDE, SIDE, pixels, labels);
    }
}

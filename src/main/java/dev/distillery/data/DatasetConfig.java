package dev.distillery.data;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * One dataset as the server's configuration describes it ({@code distillery.datasets."NAME".*}).
 *
 * @param name what recipes and evaluations call it
 * @param format "idx", "cifar" or "imagefolder": which {@link DatasetReader} reads it
 * @param directory where its files are
 * @param labels class names in label order; empty to take them from the files
 * @param unlabelledDirectory imagefolder: images without a label, added to the training images
 * @param cifarLabels cifar: "fine" or "coarse", which of CIFAR-100's labels to use
 */
public record DatasetConfig(String name, String format, Path directory, List<String> labels,
        Optional<Path> unlabelledDirectory, String cifarLabels) {

    public DatasetConfig {
        labels = List.copyOf(labels);
    }

    /** The configuration key of one of this dataset's settings, for messages. */
    public String key(String setting) {
        return "distillery.datasets.\"" + name + "\"." + setting;
    }
}

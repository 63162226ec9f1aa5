package dev.distillery.data;

import dev.distillery.error.DistilleryException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The datasets recipes and evaluations may name, as configured ({@code distillery.datasets.*}).
 * Clients name a dataset; they never pass a server path. A split is read once and kept in memory
 * (Fashion-MNIST's training split is 47 MB of pixels).
 */
public final class Datasets {

    /** A configured dataset: its IDX directory and class names in label order. */
    public record Dataset(String name, Path directory, List<String> labels) {

        public Dataset {
            labels = List.copyOf(labels);
        }
    }

    private final Map<String, Dataset> byName;
    private final Map<String, ImageSet> loaded = new ConcurrentHashMap<>();

    public Datasets(Map<String, Dataset> byName) {
        this.byName = new TreeMap<>(byName);
    }

    public Dataset get(String name) {
        if (name == null || name.isEmpty()) {
            throw DistilleryException.invalid("dataset is empty: name one of %s", byName.keySet());
        }
        Dataset dataset = byName.get(name);
        if (dataset == null) {
            throw DistilleryException.notFound("no dataset named '%s' is configured on this server; configured: %s",
                    name, byName.keySet());
        }
        return dataset;
    }

    /** Images and labels of split "train" or "test", checked against the configured class names. */
    public ImageSet load(String name, String split) {
        Dataset dataset = get(name);
        if (!split.equals("train") && !split.equals("test")) {
            throw DistilleryException.invalid("split must be 'train' or 'test', got '%s'", split);
        }
        return loaded.computeIfAbsent(name + "/" + split, key -> {
            ImageSet images;
            try {
                images = IdxReader.readSplit(dataset.directory(), split);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read dataset '" + name + "' from " + dataset.directory(), e);
            }
            for (int label : images.labels()) {
                if (label < 0 || label >= dataset.labels().size()) {
                    throw DistilleryException.precondition(
                            "dataset '%s' has label %d but %d class names are configured (distillery.datasets.\"%s\".labels)",
                            name, label, dataset.labels().size(), name);
                }
            }
            return images;
        });
    }
}

package dev.distillery.data;

import dev.distillery.error.DistilleryException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * The datasets recipes and evaluations may name, as configured ({@code distillery.datasets.*}), each read
 * by the {@link DatasetReader} of its {@code format}. Clients name a dataset; they never pass a server
 * path. What a reader returns is kept: the pixels of the in-memory formats (Fashion-MNIST's training split
 * is 47 MB), the file listing of an image folder (files added later are seen after a restart).
 */
public final class Datasets {

    /** The formats, by the name {@code format} gives. */
    private static final Map<String, Function<DatasetConfig, DatasetReader>> FORMATS = Map.of(
            "idx", IdxReader::new,
            "cifar", CifarReader::new,
            "imagefolder", ImageFolderReader::new);

    /** A configured dataset: its name, format and class names in label order. */
    public record Dataset(String name, String format, List<String> labels) {

        public Dataset {
            labels = List.copyOf(labels);
        }
    }

    private final Map<String, DatasetConfig> configs = new TreeMap<>();
    private final Map<String, DatasetReader> readers = new TreeMap<>();
    private final Map<String, Dataset> resolved = new ConcurrentHashMap<>();
    private final Map<String, ImageSource> loaded = new ConcurrentHashMap<>();
    private final Map<String, Optional<ImageSource>> unlabelled = new ConcurrentHashMap<>();

    /**
     * @throws IllegalArgumentException when a dataset names an unknown format or a setting its format
     *     does not have: a configuration error, reported at startup
     */
    public Datasets(Collection<DatasetConfig> configured) {
        for (DatasetConfig config : configured) {
            Function<DatasetConfig, DatasetReader> format = FORMATS.get(config.format());
            if (format == null) {
                throw new IllegalArgumentException(String.format("%s is '%s'; known formats: %s",
                        config.key("format"), config.format(), new TreeMap<>(FORMATS).keySet()));
            }
            if (config.unlabelledDirectory().isPresent() && !config.format().equals("imagefolder")) {
                throw new IllegalArgumentException(config.key("unlabelled-directory")
                        + " is for format imagefolder only; this dataset's format is " + config.format());
            }
            configs.put(config.name(), config);
            readers.put(config.name(), format.apply(config));
        }
    }

    /**
     * The dataset named {@code name}, with its class names.
     *
     * @throws DistilleryException INVALID_ARGUMENT for an empty name, NOT_FOUND for one not configured
     *     or whose files are missing
     */
    public Dataset get(String name) {
        DatasetReader reader = reader(name);
        return resolved.computeIfAbsent(name, key -> {
            List<String> labels = reader.classNames();
            if (labels.isEmpty()) {
                throw DistilleryException.precondition("dataset '%s' has no classes", name);
            }
            return new Dataset(name, configs.get(name).format(), labels);
        });
    }

    /**
     * Images and labels of split "train" or "test", checked against the class names.
     *
     * @throws DistilleryException INVALID_ARGUMENT for another split, NOT_FOUND when the files are
     *     missing, FAILED_PRECONDITION when a label has no class name
     */
    public ImageSource load(String name, String split) {
        Dataset dataset = get(name);
        if (!split.equals("train") && !split.equals("test")) {
            throw DistilleryException.invalid("split must be 'train' or 'test', got '%s'", split);
        }
        return loaded.computeIfAbsent(name + "/" + split, key -> {
            ImageSource images = read(name, reader -> reader.read(split));
            for (int i = 0; i < images.count(); i++) {
                int label = images.label(i);
                if (label < 0 || label >= dataset.labels().size()) {
                    throw DistilleryException.precondition(
                            "dataset '%s' has label %d but %d class names are configured (%s)",
                            name, label, dataset.labels().size(), configs.get(name).key("labels"));
                }
            }
            return images;
        });
    }

    /** The dataset's images without labels (an image folder's {@code unlabelled-directory}), if any. */
    public Optional<ImageSource> unlabelled(String name) {
        get(name);
        return unlabelled.computeIfAbsent(name, key -> read(name, DatasetReader::unlabelled));
    }

    private DatasetReader reader(String name) {
        if (name == null || name.isEmpty()) {
            throw DistilleryException.invalid("dataset is empty: name one of %s", readers.keySet());
        }
        DatasetReader reader = readers.get(name);
        if (reader == null) {
            throw DistilleryException.notFound("no dataset named '%s' is configured on this server; configured: %s",
                    name, readers.keySet());
        }
        return reader;
    }

    private interface Read<T> {
        T from(DatasetReader reader) throws IOException;
    }

    private <T> T read(String name, Read<T> read) {
        DatasetConfig config = configs.get(name);
        try {
            return read.from(readers.get(name));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read dataset '" + name + "' from " + config.directory(), e);
        }
    }
}

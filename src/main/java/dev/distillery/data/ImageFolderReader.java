package dev.distillery.data;

import dev.distillery.error.DistilleryException;
import java.io.IOException;
import java.nio.file.FileVisitOption;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Reads a folder of image files with one sub-folder per class (format {@code imagefolder}), as
 * torchvision's {@code ImageFolder} does, with a level for the split:
 *
 * <pre>
 *   &lt;directory&gt;/train/&lt;class&gt;/**.png|jpg|jpeg|bmp|gif
 *   &lt;directory&gt;/test/&lt;class&gt;/...
 * </pre>
 *
 * The class folders of "train", sorted by name, are the classes: label {@code i} is the {@code i}-th
 * folder, and configured {@code labels} name them in that order. Files are found at any depth under a class
 * folder, in path order; other files and hidden entries are ignored. An {@code unlabelled-directory} holds
 * more images, at any depth, that join the training images with label -1 (a transfer set).
 *
 * <p>Only the listing is read here: pixels are decoded on demand ({@link ImageFiles}).
 */
public final class ImageFolderReader implements DatasetReader {

    private static final Set<String> EXTENSIONS = Set.of("png", "jpg", "jpeg", "bmp", "gif");

    private final DatasetConfig config;

    public ImageFolderReader(DatasetConfig config) {
        this.config = config;
    }

    /** The sorted class folder names of "train", or the configured names, one per folder. */
    @Override
    public List<String> classNames() {
        List<String> folders = classFolders(splitDirectory("train"));
        if (config.labels().isEmpty()) {
            return folders;
        }
        if (config.labels().size() != folders.size()) {
            throw DistilleryException.precondition("%s names %d classes but %s has %d class folders: %s",
                    config.key("labels"), config.labels().size(), splitDirectory("train"), folders.size(), folders);
        }
        return config.labels();
    }

    @Override
    public ImageFiles read(String split) throws IOException {
        Path root = splitDirectory(split);
        List<String> classes = classFolders(splitDirectory("train"));
        List<Path> files = new ArrayList<>();
        List<Integer> labels = new ArrayList<>();
        for (String folder : classFolders(root)) {
            int label = classes.indexOf(folder);
            if (label < 0) {
                throw DistilleryException.precondition("%s has a class folder '%s' that %s lacks; classes: %s",
                        root, folder, splitDirectory("train"), classes);
            }
            for (Path file : images(root.resolve(folder))) {
                files.add(file);
                labels.add(label);
            }
        }
        if (files.isEmpty()) {
            throw DistilleryException.notFound("%s holds no images: expected <class>/*.png or *.jpg under it", root);
        }
        return new ImageFiles(files, labels.stream().mapToInt(Integer::intValue).toArray());
    }

    @Override
    public Optional<ImageSource> unlabelled() throws IOException {
        if (config.unlabelledDirectory().isEmpty()) {
            return Optional.empty();
        }
        Path root = config.unlabelledDirectory().get();
        if (!Files.isDirectory(root)) {
            throw DistilleryException.notFound("%s (%s) is not a directory", root, config.key("unlabelled-directory"));
        }
        List<Path> files = images(root);
        int[] labels = new int[files.size()];
        Arrays.fill(labels, -1);
        return Optional.of(new ImageFiles(files, labels));
    }

    private Path splitDirectory(String split) {
        Path root = config.directory().resolve(split);
        if (!Files.isDirectory(root)) {
            throw DistilleryException.notFound(
                    "dataset directory %s has no '%s' folder: expected %s/%s/<class>/*.png or *.jpg, one folder per class",
                    config.directory(), split, config.directory(), split);
        }
        return root;
    }

    private static List<String> classFolders(Path root) {
        try (Stream<Path> entries = Files.list(root)) {
            List<String> folders = entries.filter(Files::isDirectory).map(path -> path.getFileName().toString())
                    .filter(name -> !name.startsWith(".")).sorted().toList();
            if (folders.isEmpty()) {
                throw DistilleryException.notFound("%s has no class folders: expected one folder per class", root);
            }
            return folders;
        } catch (IOException e) {
            throw DistilleryException.precondition("cannot list %s: %s", root, e.getMessage());
        }
    }

    /** Image files at any depth under {@code root}, in path order. */
    private static List<Path> images(Path root) throws IOException {
        try (Stream<Path> paths = Files.walk(root, FileVisitOption.FOLLOW_LINKS)) {
            return paths.filter(path -> !hidden(root.relativize(path)))
                    .filter(ImageFolderReader::isImage)
                    .filter(Files::isRegularFile)
                    .sorted()
                    .toList();
        }
    }

    private static boolean hidden(Path relative) {
        for (Path part : relative) {
            if (part.toString().startsWith(".")) {
                return true;
            }
        }
        return false;
    }

    private static boolean isImage(Path path) {
        String name = path.getFileName().toString();
        int dot = name.lastIndexOf('.');
        return dot > 0 && EXTENSIONS.contains(name.substring(dot + 1).toLowerCase(Locale.ROOT));
    }
}

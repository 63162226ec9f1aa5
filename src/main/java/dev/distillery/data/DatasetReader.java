package dev.distillery.data;

import java.io.IOException;
import java.util.List;
import java.util.Optional;

/**
 * Reads one configured dataset in one format. There is one implementation per format ({@link IdxReader},
 * {@link CifarReader}, {@link ImageFolderReader}), chosen by the dataset's {@code format};
 * {@link Datasets} caches what they read.
 */
public interface DatasetReader {

    /**
     * Class names in label order: the configured ones, or the format's own.
     *
     * @throws dev.distillery.error.DistilleryException NOT_FOUND when the dataset's files are missing,
     *     FAILED_PRECONDITION when the configured names do not fit them
     */
    List<String> classNames();

    /**
     * The labelled images of split "train" or "test".
     *
     * @throws dev.distillery.error.DistilleryException NOT_FOUND when the split's files are missing,
     *     INVALID_ARGUMENT when they are malformed
     * @throws IOException when a file exists but cannot be read
     */
    ImageSource read(String split) throws IOException;

    /** Images with no label that join the training images as a transfer set; none by default. */
    default Optional<ImageSource> unlabelled() throws IOException {
        return Optional.empty();
    }
}

package dev.distillery.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Everything under {@code distillery.*} in application.properties. */
@ConfigMapping(prefix = "distillery")
public interface DistilleryConfig {

    Store store();

    Jobs jobs();

    /** Datasets a recipe or an evaluation may name, by name. */
    Map<String, Dataset> datasets();

    Training training();

    Serving serving();

    interface Store {
        /** Root of the model repository. */
        Path root();

        /** Largest ONNX file UploadModel accepts, in bytes. */
        @WithDefault("536870912")
        long maxUploadBytes();
    }

    interface Jobs {
        /** Where job records are kept, one JSON file per job. */
        Path root();
    }

    interface Dataset {
        /** idx (the default), cifar or imagefolder. */
        @WithDefault("idx")
        String format();

        /** Directory holding the dataset's files. */
        Path directory();

        /** Class names in label order; required for idx, else taken from the files when absent. */
        Optional<List<String>> labels();

        /** imagefolder: images without a label, added to the training images as a transfer set. */
        Optional<Path> unlabelledDirectory();

        /** cifar: "fine" or "coarse", which of CIFAR-100's two labels to use. */
        @WithDefault("fine")
        String cifarLabels();
    }

    interface Training {
        /** auto, cpu or gpu. */
        @WithDefault("auto")
        String device();
    }

    interface Serving {
        /** cpu or cuda. */
        @WithDefault("cpu")
        String provider();

        @WithDefault("1")
        int intraOpThreads();

        @WithDefault("256")
        int maxBatch();

        /**
         * How often the store is checked for versions another process added, replaced or deleted; 0 turns
         * watching off.
         */
        @WithDefault("5s")
        Duration pollInterval();

        /** What every model is served with, unless {@link #models()} says otherwise. */
        ModelServing defaults();

        /** Per-model settings, by model name; each key overrides the same key of {@link #defaults()}. */
        Map<String, ModelServing> models();
    }

    interface ModelServing {
        /** Version policy: latest:N, specific:V1,V2,... or all; latest:1 when not set anywhere. */
        Optional<String> versions();
    }
}

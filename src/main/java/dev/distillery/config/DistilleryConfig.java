package dev.distillery.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

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
        /** Directory holding the IDX files. */
        Path directory();

        /** Class names in label order. */
        List<String> labels();
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
    }
}

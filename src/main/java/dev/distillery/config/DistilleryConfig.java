package dev.distillery.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Everything under {@code distillery.*} in application.properties. */
@ConfigMapping(prefix = "distillery")
public interface DistilleryConfig {

    /** control, serve, or both; or worker alone (see {@link Roles}). */
    @WithDefault("control,serve")
    List<String> roles();

    /** The worker role's settings: which job, where control is, and the job's token. */
    Worker worker();

    Store store();

    Jobs jobs();

    /** Datasets a recipe or an evaluation may name, by name. */
    Map<String, Dataset> datasets();

    Training training();

    Serving serving();

    Auth auth();

    Tls tls();

    interface Store {
        /** filesystem (the versions live in root) or s3 (they live in a bucket; root is this replica's cache). */
        @WithDefault("filesystem")
        String type();

        /** Root of the model repository, or with s3 this replica's cache of the bucket. */
        Path root();

        S3 s3();

        /** Largest ONNX file UploadModel accepts, in bytes. */
        @WithDefault("536870912")
        long maxUploadBytes();
    }

    /** The bucket of distillery.store.type=s3; credentials come from the AWS SDK's default chain. */
    interface S3 {
        Optional<String> bucket();

        /** An S3-compatible service's URL; none means AWS's endpoint for the region. */
        Optional<URI> endpoint();

        @WithDefault("us-east-1")
        String region();

        /** Put before every key, e.g. "distillery/"; none for the bucket's top. */
        Optional<String> prefix();
    }

    interface Jobs {
        /** Where job records are kept, one JSON file per job. */
        Path root();

        /** What starts a job's worker: process (a child JVM), kubernetes (a batch/v1 Job) or in-process (a thread). */
        @WithDefault("process")
        String launcher();

        /** The kubernetes launcher's settings. */
        Kubernetes kubernetes();

        /** How many jobs run at once. */
        @WithDefault("1")
        int maxRunning();

        /** How long a worker asked to stop (a cancel, a shutdown) has before it is terminated. */
        @WithDefault("30s")
        Duration stopGrace();

        /** The process launcher's workers' CPU priority beside serving: idle, low or normal (jobs.CpuPriority). */
        @WithDefault("low")
        String workerCpuPriority();
    }

    interface Kubernetes {
        /** The worker's batch/v1 Job template, a YAML file (kube.WorkerJobTemplate says what is kept and set). */
        Optional<Path> template();

        /** host:port of control's gRPC port as workers reach it, for a template that does not set it. */
        Optional<String> controlAddress();
    }

    interface Worker {
        /** The id of the job to run. */
        Optional<String> job();

        /** host:port of control's gRPC port. */
        Optional<String> control();

        /** The token control made for this run of the job. */
        Optional<String> token();

        /** A PEM file of the CA that signed control's certificate: the worker connects over TLS; plain text without. */
        Optional<Path> tlsCa();

        /**
         * How long a worker that lost its channel to control may take to stop before it is halted, and
         * how long it waits for control to acknowledge the job's end.
         */
        @WithDefault("30s")
        Duration grace();
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
         * Predict and ModelInfer calls of tensors to a model whose mean call time is under this run on the gRPC
         * event loop, without a hand-over to a worker thread; 0 sends every call to a worker (api.CallPlacement).
         */
        @WithDefault("250")
        long inlineLimitMicroseconds();

        /** Most pixels (width x height) of one image in a request, read from its header before decoding. */
        @WithDefault("16777216")
        long maxImagePixels();

        /**
         * How often the store is checked for versions another process added, replaced or deleted; 0 turns
         * watching off.
         */
        @WithDefault("5s")
        Duration pollInterval();

        /** What every model gets unless {@link #models()} overrides it. */
        ModelDefaults defaults();

        /** Settings of single models, by model name; each setting left out falls back to {@link #defaults()}. */
        Map<String, ModelOverrides> models();
    }

    interface ModelDefaults {
        BatchingDefaults batching();

        /** Version policy: latest:N, specific:V1,V2,... or all; latest:1 when not set anywhere. */
        Optional<String> versions();
    }

    interface ModelOverrides {
        BatchingOverrides batching();

        /** This model's version policy, over the default's. */
        Optional<String> versions();
    }

    /** Dynamic batching, as Triton's {@code dynamic_batching}; see serve.Batching for what each means. */
    interface BatchingDefaults {
        @WithDefault("true")
        boolean enabled();

        /** Rows; none means max-batch-size. */
        Optional<List<Integer>> preferredBatchSizes();

        @WithDefault("64")
        int maxBatchSize();

        @WithDefault("0")
        long maxQueueDelayMicroseconds();

        /** Rows waiting, at most. */
        @WithDefault("1024")
        int maxQueueSize();
    }

    interface BatchingOverrides {
        Optional<Boolean> enabled();

        Optional<List<Integer>> preferredBatchSizes();

        Optional<Integer> maxBatchSize();

        Optional<Long> maxQueueDelayMicroseconds();

        Optional<Integer> maxQueueSize();
    }

    /** Access control by bearer token (README, "Access control and TLS"). */
    interface Auth {
        /** Whether every call but health and reflection needs a token; when on, the server needs tokens to start. */
        @WithDefault("false")
        boolean enabled();

        /** Directory as Kubernetes mounts the token Secret: files predict, train and admin, one token a line. */
        @WithDefault("/etc/distillery/tokens")
        Path tokens();

        /** How often the token files are read again, to pick up a Secret Kubernetes updated in place. */
        @WithDefault("10s")
        Duration reloadInterval();
    }

    /** TLS on the server's port; both set or neither (see {@link TlsSettings}, which turns them into Quarkus's). */
    interface Tls {
        /** PEM certificate chain, the server's first. */
        Optional<Path> cert();

        /** PEM private key of the certificate. */
        Optional<Path> key();
    }
}

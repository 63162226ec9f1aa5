package dev.distillery.serve;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.nio.file.Path;
import org.jboss.logging.Logger;

/**
 * The process-wide ONNX Runtime environment and how sessions are opened. With provider "cuda" the
 * CUDA execution provider is tried once at start; when this build or machine has no CUDA, serving
 * falls back to the CPU provider and says so in the log.
 */
public final class OnnxRuntime {

    private static final Logger LOG = Logger.getLogger(OnnxRuntime.class);

    private final OrtEnvironment environment;
    private final int intraOpThreads;
    private final boolean cuda;

    public OnnxRuntime(String provider, int intraOpThreads) {
        this.environment = OrtEnvironment.getEnvironment();
        this.intraOpThreads = intraOpThreads;
        this.cuda = switch (provider.toLowerCase()) {
            case "cpu" -> false;
            case "cuda" -> cudaAvailable();
            default -> throw new IllegalArgumentException(
                    "distillery.serving.provider must be cpu or cuda, got " + provider);
        };
        LOG.infof("ONNX Runtime %s ready: provider %s, %d intra-op thread(s)",
                environment.getVersion(), cuda ? "CUDA" : "CPU", intraOpThreads);
    }

    public OrtEnvironment environment() {
        return environment;
    }

    /** "CUDA" or "CPU": the provider sessions are opened with. */
    public String provider() {
        return cuda ? "CUDA" : "CPU";
    }

    public OrtSession open(Path modelFile) throws OrtException {
        try (OrtSession.SessionOptions options = options()) {
            return environment.createSession(modelFile.toString(), options);
        }
    }

    /** A session of the model in {@code onnx}: the bytes that were checked, not a file that may change meanwhile. */
    public OrtSession open(byte[] onnx) throws OrtException {
        try (OrtSession.SessionOptions options = options()) {
            return environment.createSession(onnx, options);
        }
    }

    private OrtSession.SessionOptions options() throws OrtException {
        OrtSession.SessionOptions options = new OrtSession.SessionOptions();
        options.setIntraOpNumThreads(intraOpThreads);
        options.setInterOpNumThreads(1);
        options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
        if (cuda) {
            options.addCUDA(0);
        }
        return options;
    }

    private static boolean cudaAvailable() {
        try (OrtSession.SessionOptions probe = new OrtSession.SessionOptions()) {
            probe.addCUDA(0);
            return true;
        } catch (OrtException | RuntimeException | UnsatisfiedLinkError e) {
            LOG.warnf("CUDA was requested for ONNX Runtime but is not available (%s); serving on CPU. "
                    + "A CUDA build needs com.microsoft.onnxruntime:onnxruntime_gpu and an NVIDIA driver.",
                    e.getMessage());
            return false;
        }
    }
}

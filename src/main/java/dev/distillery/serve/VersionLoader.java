package dev.distillery.serve;

import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.distillery.error.DistilleryException;
import dev.distillery.store.ModelStore;
import dev.distillery.v1.ModelInfo;
import org.jboss.logging.Logger;

/** Turns one stored version into a session ready for requests, or says why it cannot be served. */
@FunctionalInterface
interface VersionLoader {

    /**
     * A warm session of the version {@code card} describes.
     *
     * @throws RuntimeException whose message says why the version cannot be served
     */
    LoadedModel load(ModelInfo card);

    /**
     * Reads model.onnx once and checks it against the sha256 in model.json ({@link ModelStore#readModel}),
     * opens the session from those same bytes, so what runs is what was checked, and runs it once on a
     * zero input, so that ONNX Runtime's first-run work is done before a request arrives. Each version
     * gets its batching and metrics from {@code serving}.
     */
    static VersionLoader verified(ModelStore store, OnnxRuntime runtime, ServingOptions serving) {
        return card -> {
            byte[] onnx = store.readModel(card);
            Logger.getLogger(VersionLoader.class).infof("loading model %s version %d on %s", card.getName(),
                    card.getVersion(), runtime.provider());
            OrtSession session = null;
            LoadedModel model = null;
            try {
                session = runtime.open(onnx);
                model = new LoadedModel(runtime, session, card, serving);
                model.logits(model.newInputBuffer(1), 1);
                return model;
            } catch (OrtException | RuntimeException e) {
                close(model != null ? model : session);
                throw e instanceof RuntimeException failure ? failure : new DistilleryException(
                        DistilleryException.Kind.FAILED_PRECONDITION, String.format("ONNX Runtime cannot load model "
                                + "%s/%d from the store: %s", card.getName(), card.getVersion(), e.getMessage()), e);
            }
        };
    }

    /** Closes what a failed load opened; the load's failure is the one to report. */
    private static void close(AutoCloseable opened) {
        if (opened == null) {
            return;
        }
        try {
            opened.close();
        } catch (Exception e) {
            Logger.getLogger(VersionLoader.class).warnf("closing after a failed load: %s", e.getMessage());
        }
    }
}

package dev.distillery.bench;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.distillery.serve.OnnxRuntime;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.Map;

/**
 * The ONNX Runtime call every serving path ends in, with nothing around it: one image (NCHW, batch 1) in
 * a direct buffer, one run, the logits copied out. The session is opened with Distillery's own options
 * (one intra-op thread, CPU), so the floor server and the raw figures run exactly what the server runs.
 */
final class OrtCall implements AutoCloseable {

    private final OnnxRuntime runtime = new OnnxRuntime("cpu", 1);
    private final OrtSession session;
    private final String inputName;
    private final long[] shape;

    OrtCall(Path modelFile, long[] imageShape) throws OrtException {
        this.session = runtime.open(modelFile);
        this.inputName = session.getInputNames().iterator().next();
        this.shape = new long[] {1, imageShape[0], imageShape[1], imageShape[2]};
    }

    /** The logits of one preprocessed image, given as a direct native-order buffer from position 0. */
    float[] logits(FloatBuffer image) throws OrtException {
        image.rewind();
        try (OnnxTensor tensor = OnnxTensor.createTensor(runtime.environment(), image, shape);
                OrtSession.Result result = session.run(Map.of(inputName, tensor))) {
            FloatBuffer scores = ((OnnxTensor) result.get(0)).getFloatBuffer();
            float[] logits = new float[scores.remaining()];
            scores.get(logits);
            return logits;
        }
    }

    @Override
    public void close() throws OrtException {
        session.close();
    }
}

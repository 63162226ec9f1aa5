package dev.distillery.serve;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import dev.distillery.data.ImagePipeline;
import dev.distillery.error.DistilleryException;
import dev.distillery.v1.ModelInfo;
import dev.distillery.v1.ModelRef;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Map;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * One model version with an open ONNX Runtime session. Sessions are safe for concurrent runs. Input
 * goes in through a direct, native-order buffer: ORT then reads it in place instead of copying a
 * Java array (DESIGN §5). A model whose input fixes the batch dimension at 1 (an uploaded one may) is
 * run one image at a time. Closing waits for runs in flight, so a deleted model is never freed under
 * a running request; later runs are refused.
 *
 * <p>Requests ({@link #batchedLogits}) go through this version's own {@link DynamicBatcher} when its
 * {@link Batching} is enabled, and run on the caller's thread otherwise or when the model fixes batch
 * 1 (batching could only queue them). The version's {@link ModelMetrics} are registered with it.
 * Closing first lets the requests already queued run.
 */
public final class LoadedModel implements AutoCloseable {

    private final OnnxRuntime runtime;
    private final OrtSession session;
    private final ModelInfo info;
    private final ModelRef ref;
    private final String inputName;
    private final int channels;
    private final int height;
    private final int width;
    private final int classes;
    private final ImagePipeline pipeline;
    private final boolean oneImagePerRun;
    private final ReadWriteLock lifecycle = new ReentrantReadWriteLock();
    private final ServingMetrics servingMetrics;
    private final ModelMetrics metrics;
    private final DynamicBatcher batcher;
    private boolean closed;

    LoadedModel(OnnxRuntime runtime, OrtSession session, ModelInfo info, ServingOptions serving) throws OrtException {
        this.runtime = runtime;
        this.session = session;
        this.info = info;
        this.ref = ModelRef.newBuilder().setName(info.getName()).setVersion(info.getVersion()).build();
        NodeInfo input = session.getInputInfo().values().iterator().next();
        this.inputName = input.getName();
        this.oneImagePerRun = input.getInfo() instanceof TensorInfo tensor && tensor.getShape().length > 0
                && tensor.getShape()[0] == 1;
        this.pipeline = pipeline(info);
        this.channels = pipeline.channels();
        this.height = pipeline.height();
        this.width = pipeline.width();
        this.classes = info.getLabelsCount();
        this.servingMetrics = serving.metrics();
        this.metrics = servingMetrics.acquire(info.getName(), info.getVersion());
        Batching batching = serving.batching(info.getName());
        this.batcher = batching.enabled() && !oneImagePerRun
                ? new DynamicBatcher(ref, batching, imageSize(), classes, this::measured, metrics, this::gone)
                : null;
    }

    /**
     * How images become this model's inputs, from its model.json.
     *
     * @throws DistilleryException FAILED_PRECONDITION when model.json's preprocessing does not fit its
     *     input shape
     */
    public static ImagePipeline pipeline(ModelInfo info) {
        if (info.getInputShapeCount() != 3) {
            throw DistilleryException.precondition(
                    "model %s/%d: model.json input_shape must be [channels, height, width], got %s",
                    info.getName(), info.getVersion(), info.getInputShapeList());
        }
        try {
            return ImagePipeline.of(info.getPreprocessing(), Math.toIntExact(info.getInputShape(0)),
                    Math.toIntExact(info.getInputShape(1)), Math.toIntExact(info.getInputShape(2)));
        } catch (DistilleryException | ArithmeticException e) {
            throw DistilleryException.precondition("model %s/%d: model.json %s", info.getName(), info.getVersion(),
                    e.getMessage());
        }
    }

    public ModelInfo info() {
        return info;
    }

    public ModelRef ref() {
        return ref;
    }

    public int channels() {
        return channels;
    }

    public int height() {
        return height;
    }

    public int width() {
        return width;
    }

    /** Floats in one input image (C*H*W). */
    public int imageSize() {
        return channels * height * width;
    }

    public int classes() {
        return classes;
    }

    /** How an image becomes this model's input, as model.json says; built once per loaded model. */
    public ImagePipeline pipeline() {
        return pipeline;
    }

    /** This version's Prometheus series. */
    public ModelMetrics metrics() {
        return metrics;
    }

    /** A direct buffer sized for {@code batch} inputs, ready to be filled and passed to {@link #logits}. */
    public FloatBuffer newInputBuffer(int batch) {
        return directFloats(batch * imageSize());
    }

    static FloatBuffer directFloats(int count) {
        return ByteBuffer.allocateDirect(count * Float.BYTES).order(ByteOrder.nativeOrder()).asFloatBuffer();
    }

    /**
     * The logits of one request's {@code rows} inputs (NCHW, filled from position 0), row-major: run
     * together with other requests by the dynamic batcher when batching is on, else at once on this thread.
     *
     * @throws DistilleryException RESOURCE_EXHAUSTED when the batcher's queue is full; NOT_FOUND once closed
     */
    public float[] batchedLogits(FloatBuffer input, int rows) {
        return batcher != null ? batcher.logits(input, rows) : measured(input, rows);
    }

    /** One run as a request's: its size and time go into the metrics. */
    private float[] measured(FloatBuffer input, int rows) {
        long start = System.nanoTime();
        float[] logits = logits(input, rows);
        metrics.ran(rows, System.nanoTime() - start);
        return logits;
    }

    /** Runs the model on {@code batch} preprocessed inputs (NCHW) and returns their logits, row-major. */
    public float[] logits(FloatBuffer input, int batch) {
        input.rewind();
        lifecycle.readLock().lock();
        try {
            if (closed) {
                throw gone();
            }
            if (!oneImagePerRun || batch == 1) {
                return run(input, batch);
            }
            float[] flat = new float[batch * classes];
            for (int i = 0; i < batch; i++) {
                FloatBuffer image = input.position(i * imageSize()).slice().limit(imageSize());
                System.arraycopy(run(image, 1), 0, flat, i * classes, classes);
            }
            return flat;
        } finally {
            lifecycle.readLock().unlock();
        }
    }

    private float[] run(FloatBuffer input, int batch) {
        long[] shape = {batch, channels, height, width};
        try (OnnxTensor tensor = OnnxTensor.createTensor(runtime.environment(), input, shape);
                OrtSession.Result result = session.run(Map.of(inputName, tensor))) {
            // One copy out of native memory, already row-major.
            FloatBuffer scores = ((OnnxTensor) result.get(0)).getFloatBuffer();
            if (scores.remaining() != batch * classes) {
                throw DistilleryException.precondition(
                        "model %s/%d returns %d scores per input but model.json lists %d labels",
                        info.getName(), info.getVersion(), scores.remaining() / batch, classes);
            }
            float[] flat = new float[batch * classes];
            scores.get(flat);
            return flat;
        } catch (OrtException e) {
            throw new IllegalStateException("ONNX Runtime failed on model " + info.getName() + "/" + info.getVersion()
                    + ": " + e.getMessage(), e);
        }
    }

    private DistilleryException gone() {
        return DistilleryException.notFound("model %s/%d has been deleted; ListModels shows what is left",
                info.getName(), info.getVersion());
    }

    /**
     * Runs the requests already queued and refuses new ones, waits for runs in flight, then frees the
     * session and the metrics; later runs are refused.
     */
    @Override
    public void close() throws OrtException {
        if (batcher != null) {
            batcher.close();
        }
        lifecycle.writeLock().lock();
        try {
            if (!closed) {
                closed = true;
                session.close();
                servingMetrics.release(info.getName(), info.getVersion());
            }
        } finally {
            lifecycle.writeLock().unlock();
        }
    }
}

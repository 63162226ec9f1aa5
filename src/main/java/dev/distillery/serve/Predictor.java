package dev.distillery.serve;

import dev.distillery.error.DistilleryException;
import dev.distillery.v1.ModelRef;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Classification: inputs to one batch tensor, one ONNX Runtime run (joined with other requests by the
 * model's dynamic batcher), softmax, top-k with labels. Every protocol frontend comes through here, so
 * the limits on a request and the model's request and failure counts live here. Evaluate times the same
 * path, so its latencies are what a Predict caller gets minus the network.
 */
public final class Predictor {

    private final ModelSessions sessions;
    private final int maxBatch;
    private final long maxImagePixels;

    /**
     * @param maxBatch most inputs in one request
     * @param maxImagePixels most pixels (width x height) of one encoded image, read from its header
     */
    public Predictor(ModelSessions sessions, int maxBatch, long maxImagePixels) {
        this.sessions = sessions;
        this.maxBatch = maxBatch;
        this.maxImagePixels = maxImagePixels;
    }

    public record Result(LoadedModel model, List<List<ClassScore>> classifications) {}

    /** What the model computed for a request: {@code rows} rows of {@code model.classes()} logits, row-major. */
    public record Scores(LoadedModel model, int rows, float[] logits) {}

    /** Classifies {@code inputs}: the {@code topK} most probable classes of each (0 means 3), at most all of them. */
    public Result predict(ModelRef ref, List<ModelInput> inputs, int topK) {
        if (topK < 0) {
            throw DistilleryException.invalid("top_k must be >= 0 (0 = default 3), got %d", topK);
        }
        Scores scores = logits(ref, inputs);
        LoadedModel model = scores.model();
        int k = Math.min(topK == 0 ? 3 : topK, model.classes());
        List<List<ClassScore>> out = new ArrayList<>(scores.rows());
        for (int i = 0; i < scores.rows(); i++) {
            out.add(topK(Softmax.of(scores.logits(), i * model.classes(), model.classes()), k, model.info().getLabelsList()));
        }
        return new Result(model, out);
    }

    /**
     * Runs the model a reference names on {@code inputs} as one batch and returns its logits. The
     * request is counted in the model version's metrics, and so is its failure.
     */
    public Scores logits(ModelRef ref, List<ModelInput> inputs) {
        if (inputs.isEmpty()) {
            throw DistilleryException.invalid("no inputs: send at least one image or tensor");
        }
        LoadedModel model = sessions.get(ref);
        while (true) {
            try {
                Scores scores = run(model, inputs);
                model.metrics().request();
                return scores;
            } catch (RuntimeException | Error e) {
                // A new or replaced version can take over between get and run and close this session (a
                // closed session refuses with NOT_FOUND): the request runs on what serves the reference now,
                // and only the attempt that answers is counted.
                LoadedModel now = e instanceof DistilleryException known
                        && known.kind() == DistilleryException.Kind.NOT_FOUND ? sessions.get(ref) : model;
                if (now == model) {
                    model.metrics().request();
                    model.metrics().failed(e);
                    throw e;
                }
                model = now;
            }
        }
    }

    private Scores run(LoadedModel model, List<ModelInput> inputs) {
        if (inputs.size() > maxBatch) {
            throw new DistilleryException(DistilleryException.Kind.RESOURCE_EXHAUSTED, String.format(
                    "%d inputs in one request; the limit is %d (distillery.serving.max-batch): split the batch",
                    inputs.size(), maxBatch));
        }
        FloatBuffer batch = model.newInputBuffer(inputs.size());
        for (int i = 0; i < inputs.size(); i++) {
            write(inputs.get(i), i, model, batch);
        }
        return new Scores(model, inputs.size(), model.batchedLogits(batch, inputs.size()));
    }

    private void write(ModelInput input, int index, LoadedModel model, FloatBuffer batch) {
        batch.position(index * model.imageSize());
        if (input instanceof ModelInput.Image image) {
            try {
                model.pipeline().write(image.encoded(), maxImagePixels, batch);
            } catch (DistilleryException e) {
                throw new DistilleryException(e.kind(), "input " + index + ": " + e.getMessage(), e);
            }
        } else {
            ModelInput.Tensor tensor = (ModelInput.Tensor) input;
            long[] expected = {model.channels(), model.height(), model.width()};
            if (!Arrays.equals(tensor.shape(), expected)) {
                throw DistilleryException.invalid("input %d: tensor shape %s does not match the model's input shape %s",
                        index, Arrays.toString(tensor.shape()), Arrays.toString(expected));
            }
            if (tensor.values().length != model.imageSize()) {
                throw DistilleryException.invalid("input %d: tensor of shape %s needs %d values, got %d",
                        index, Arrays.toString(expected), model.imageSize(), tensor.values().length);
            }
            checkFinite(tensor.values(), index, model);
            batch.put(tensor.values());
        }
    }

    /** NaN and infinities would come out as NaN probabilities: refused, at the first such value. */
    private static void checkFinite(float[] values, int index, LoadedModel model) {
        for (int i = 0; i < values.length; i++) {
            if (!Float.isFinite(values[i])) {
                int plane = model.height() * model.width();
                throw DistilleryException.invalid(
                        "input %d: tensor value %d (channel %d, row %d, column %d) is %s; send finite numbers",
                        index, i, i / plane, i % plane / model.width(), i % model.width(), values[i]);
            }
        }
    }

    /**
     * The {@code k} largest of {@code probabilities}, largest first (the lower index first among equals), with
     * their {@code labels}: k passes over the classes, which for the few classes and small k of a classifier's
     * answer is cheaper than sorting.
     */
    public static List<ClassScore> topK(float[] probabilities, int k, List<String> labels) {
        List<ClassScore> top = new ArrayList<>(k);
        boolean[] taken = new boolean[probabilities.length];
        for (int i = 0; i < k; i++) {
            int best = -1;
            for (int c = 0; c < probabilities.length; c++) {
                if (!taken[c] && (best < 0 || probabilities[c] > probabilities[best])) {
                    best = c;
                }
            }
            taken[best] = true;
            top.add(new ClassScore(best, labels.get(best), probabilities[best]));
        }
        return top;
    }
}

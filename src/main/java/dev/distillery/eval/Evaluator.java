package dev.distillery.eval;

import dev.distillery.data.Datasets;
import dev.distillery.data.ImageSource;
import dev.distillery.error.DistilleryException;
import dev.distillery.serve.LoadedModel;
import dev.distillery.serve.ModelInput;
import dev.distillery.serve.ModelInputs;
import dev.distillery.serve.ModelSessions;
import dev.distillery.serve.Predictor;
import dev.distillery.v1.ModelRef;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The seed's comparison table: for each model, its size, its accuracy on a dataset split and its
 * per-image latency. Accuracy runs in batches; latency times single-image calls
 * through {@link Predictor}, the path a Predict request takes, after a warm-up.
 */
public final class Evaluator {

    private static final int WARM_UP = 20;
    private static final int MAX_LATENCY_SAMPLES = 10_000;

    private final ModelSessions sessions;
    private final Predictor predictor;
    private final Datasets datasets;

    public Evaluator(ModelSessions sessions, Predictor predictor, Datasets datasets) {
        this.sessions = sessions;
        this.predictor = predictor;
        this.datasets = datasets;
    }

    public record Report(String dataset, String split, int images, List<ModelReport> models) {}

    public Report evaluate(List<ModelRef> refs, String dataset, String split, int limit, int latencySamples) {
        if (refs.isEmpty()) {
            throw DistilleryException.invalid("no models to evaluate: name at least one");
        }
        if (limit < 0) {
            throw DistilleryException.invalid("limit must be >= 0 (0 = the whole split), got %d", limit);
        }
        if (latencySamples < 0 || latencySamples > MAX_LATENCY_SAMPLES) {
            throw DistilleryException.invalid("latency_samples must be in [0, %d] (0 = default 200), got %d",
                    MAX_LATENCY_SAMPLES, latencySamples);
        }
        String chosenSplit = split.isEmpty() ? "test" : split;
        ImageSource all = datasets.load(dataset, chosenSplit);
        ImageSource images = limit > 0 && limit < all.count() ? all.first(limit) : all;
        // Resolve every reference first, so an unknown model fails the call before any work is done.
        List<LoadedModel> models = refs.stream().map(sessions::get).toList();
        List<ModelReport> reports = new ArrayList<>();
        for (LoadedModel model : models) {
            reports.add(evaluate(model, images, latencySamples == 0 ? 200 : latencySamples));
        }
        return new Report(dataset, chosenSplit, images.count(), reports);
    }

    private ModelReport evaluate(LoadedModel model, ImageSource images, int latencySamples) {
        ModelInputs inputs = ModelInputs.of(model);
        int classes = model.classes();
        float[] logits = inputs.logits(images);
        long top1 = 0;
        long top5 = 0;
        for (int i = 0; i < images.count(); i++) {
            int rank = rankOfTrueClass(logits, i * classes, classes, images.label(i));
            top1 += rank == 0 ? 1 : 0;
            top5 += rank < 5 ? 1 : 0;
        }
        double[] latencies = latencies(model, inputs, images, Math.min(latencySamples, images.count()));
        return new ModelReport(model.ref(), model.info().getParameters(),
                (double) top1 / images.count(), (double) top5 / images.count(),
                percentile(latencies, 0.50), percentile(latencies, 0.99));
    }

    /** How many classes score strictly higher than the true one: 0 is a top-1 hit. */
    static int rankOfTrueClass(float[] logits, int offset, int classes, int label) {
        float truth = logits[offset + label];
        int rank = 0;
        for (int c = 0; c < classes; c++) {
            if (logits[offset + c] > truth) {
                rank++;
            }
        }
        return rank;
    }

    private double[] latencies(LoadedModel model, ModelInputs inputs, ImageSource images, int samples) {
        if (samples == 0) {
            return new double[0];
        }
        ModelRef exact = model.ref();
        long[] shape = {model.channels(), model.height(), model.width()};
        for (int i = 0; i < WARM_UP; i++) {
            predictor.predict(exact, List.of(new ModelInput.Tensor(shape, inputs.input(images, i % samples))), 3);
        }
        double[] millis = new double[samples];
        for (int i = 0; i < samples; i++) {
            List<ModelInput> one = List.of(new ModelInput.Tensor(shape, inputs.input(images, i)));
            long start = System.nanoTime();
            predictor.predict(exact, one, 3);
            millis[i] = (System.nanoTime() - start) / 1e6;
        }
        return millis;
    }

    static double percentile(double[] values, double q) {
        if (values.length == 0) {
            return 0;
        }
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        int index = (int) Math.ceil(q * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, index))];
    }
}

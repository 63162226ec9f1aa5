package dev.distillery.model;

import dev.distillery.error.DistilleryException;
import java.util.ArrayList;
import java.util.List;

/**
 * "cnn": per stage, per channel count a 3x3 convolution with padding 1 (size-preserving),
 * BatchNorm when {@code batch_norm} (PyTorch's defaults), ReLU; each stage ends in a 2x2
 * max pool, so after s stages the feature map is (C_last, H / 2^s, W / 2^s), halving rounded down.
 * Then Flatten and the dense head: per hidden width Dense + ReLU (+ Dropout), Dense to the classes.
 */
public final class CnnFactory implements ArchitectureFactory {

    private static final int KERNEL = 3;
    private static final int PADDING = 1;
    private static final int POOL = 2;

    @Override
    public List<String> settings() {
        return List.of("stages", "batch_norm", "hidden", "dropout");
    }

    @Override
    public Network build(ArchitectureSpec spec, int channels, int height, int width, int classes) {
        validate(spec, height, width);
        List<Layer> layers = new ArrayList<>();
        int in = channels;
        int h = height;
        int w = width;
        for (List<Integer> stage : spec.stages()) {
            for (int out : stage) {
                layers.add(new Layer.Conv2d(in, out, KERNEL, PADDING));
                if (spec.batchNorm()) {
                    layers.add(new Layer.BatchNorm2d(out));
                }
                layers.add(new Layer.Relu());
                in = out;
            }
            layers.add(new Layer.MaxPool2d(POOL));
            h /= POOL;
            w /= POOL;
        }
        layers.add(new Layer.Flatten());
        DenseHead.append(layers, in * h * w, spec, classes);
        return new Network(spec, channels, height, width, classes, layers);
    }

    private static void validate(ArchitectureSpec spec, int height, int width) {
        List<List<Integer>> stages = spec.stages();
        if (stages.isEmpty()) {
            throw DistilleryException.invalid(
                    "cnn needs at least one stage, e.g. stages [[8], [16]]; use \"mlp\" for a network"
                            + " without convolutions");
        }
        for (int s = 0; s < stages.size(); s++) {
            List<Integer> stage = stages.get(s);
            if (stage.isEmpty()) {
                throw DistilleryException.invalid(
                        "cnn: stages[%d] has no convolutions; give it at least one channel count", s);
            }
            for (int out : stage) {
                if (out <= 0) {
                    throw DistilleryException.invalid(
                            "cnn: stages[%d] has %d output channels; channel counts must be positive", s, out);
                }
            }
        }
        int side = Math.min(height, width);
        int pools = 0;
        for (int size = side; size >= POOL; size /= POOL) {
            pools++;
        }
        if (stages.size() > pools) {
            throw DistilleryException.invalid(
                    "cnn has %d stages, each ending in a %dx%d max pool that halves the image, but the"
                            + " %dx%d input's %s %d allows at most %d; use fewer stages or a larger input",
                    stages.size(), POOL, POOL, height, width, height <= width ? "height" : "width", side, pools);
        }
    }
}

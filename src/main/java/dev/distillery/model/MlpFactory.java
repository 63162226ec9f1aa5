package dev.distillery.model;

import dev.distillery.error.DistilleryException;
import java.util.ArrayList;
import java.util.List;

/**
 * "mlp": Flatten (C*H*W features), then per hidden width Dense + ReLU (+ Dropout), then Dense to
 * the classes. Convolution settings ({@code stages}, {@code batch_norm}) are rejected, not ignored.
 */
public final class MlpFactory implements ArchitectureFactory {

    @Override
    public Network build(ArchitectureSpec spec, int channels, int height, int width, int classes) {
        if (!spec.stages().isEmpty() || spec.batchNorm()) {
            throw DistilleryException.invalid(
                    "mlp has no convolutions, so stages and batch_norm must be unset; use \"cnn\" for a"
                            + " convolutional network");
        }
        List<Layer> layers = new ArrayList<>();
        layers.add(new Layer.Flatten());
        DenseHead.append(layers, channels * height * width, spec, classes);
        return new Network(spec, channels, height, width, classes, layers);
    }
}

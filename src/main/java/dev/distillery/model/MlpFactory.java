package dev.distillery.model;

import java.util.ArrayList;
import java.util.List;

/**
 * "mlp": Flatten (C*H*W features), then per hidden width Dense + ReLU (+ Dropout), then Dense to
 * the classes.
 */
public final class MlpFactory implements ArchitectureFactory {

    @Override
    public List<String> settings() {
        return List.of("hidden", "dropout");
    }

    @Override
    public Network build(ArchitectureSpec spec, int channels, int height, int width, int classes) {
        List<Layer> layers = new ArrayList<>();
        layers.add(new Layer.Flatten());
        DenseHead.append(layers, channels * height * width, spec, classes);
        return new Network(spec, channels, height, width, classes, layers);
    }
}

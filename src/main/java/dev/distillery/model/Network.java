package dev.distillery.model;

import java.util.List;

/**
 * A concrete network: the layers an {@link ArchitectureSpec} expands to for one input shape and
 * number of classes. The last layer produces logits.
 */
public record Network(
        ArchitectureSpec spec, int channels, int height, int width, int classes, List<Layer> layers) {

    public Network {
        layers = List.copyOf(layers);
    }

    public long parameterCount() {
        return Layer.parameterCount(layers);
    }

    /** Input shape without the batch dimension. */
    public long[] inputShape() {
        return new long[] {channels, height, width};
    }
}

package dev.distillery.model;

import java.util.List;

/**
 * The head of resnet and mobilenetv2: global average pooling to one feature per channel, Dropout
 * when {@code dropout > 0}, a Dense layer to the class logits. Pooling over the whole feature map
 * makes the head, and so the network, fit any input size.
 */
final class PooledHead {

    private PooledHead() {}

    /** Appends the head to {@code layers}, which end in {@code channels} feature maps. */
    static void append(List<Layer> layers, int channels, ArchitectureSpec spec, int classes) {
        DenseHead.checkDropout(spec);
        layers.add(new Layer.GlobalAvgPool());
        if (spec.dropout() > 0) {
            layers.add(new Layer.Dropout(spec.dropout()));
        }
        layers.add(new Layer.Dense(channels, classes));
    }
}

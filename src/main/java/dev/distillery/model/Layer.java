package dev.distillery.model;

import java.util.List;

/**
 * One layer of a catalogue network. The DJL block builder and the ONNX writer both walk the same
 * layers, each as a {@link Visitor}, so what is trained is exactly what is exported; a new kind of
 * layer adds a {@code visit} method, and neither walker compiles until it handles it. Networks
 * that branch are built from {@link Residual}, which holds layers itself: a new architecture made
 * of existing layers needs no change to either walker. Tensors are NCHW.
 */
public sealed interface Layer {

    /** Trainable parameters, counted as PyTorch counts them (BatchNorm running statistics excluded). */
    long parameterCount();

    /** Calls the {@code visitor} method for this kind of layer. */
    <R> R accept(Visitor<R> visitor);

    /** One method per kind of layer; a walker over networks implements all of them. */
    interface Visitor<R> {
        R visit(Conv2d conv);

        R visit(BatchNorm2d norm);

        R visit(Relu relu);

        R visit(Relu6 relu6);

        R visit(MaxPool2d pool);

        R visit(GlobalAvgPool pool);

        R visit(Flatten flatten);

        R visit(Dense dense);

        R visit(Dropout dropout);

        R visit(Residual residual);
    }

    /** The parameters of {@code layers}, summed. */
    static long parameterCount(List<Layer> layers) {
        return layers.stream().mapToLong(Layer::parameterCount).sum();
    }

    /**
     * 2-D convolution with a square kernel, the same stride and zero padding on both axes. The
     * channels are split into {@code groups} groups convolved separately (groups = channels is a
     * depthwise convolution): the weight has shape (out, in / groups, k, k). Without {@code bias} the
     * layer has no bias term, as before a BatchNorm, whose beta takes its place.
     */
    record Conv2d(int inChannels, int outChannels, int kernel, int stride, int padding, int groups, boolean bias)
            implements Layer {

        public Conv2d {
            if (groups <= 0 || inChannels % groups != 0 || outChannels % groups != 0) {
                throw new IllegalArgumentException(String.format(
                        "%d groups do not divide %d input and %d output channels", groups, inChannels, outChannels));
            }
        }

        /** Stride 1, one group, with bias. */
        public Conv2d(int inChannels, int outChannels, int kernel, int padding) {
            this(inChannels, outChannels, kernel, 1, padding, 1, true);
        }

        public long parameterCount() {
            return (long) outChannels * (inChannels / groups) * kernel * kernel + (bias ? outChannels : 0);
        }

        public <R> R accept(Visitor<R> visitor) {
            return visitor.visit(this);
        }
    }

    /**
     * Batch normalisation over channels; eval mode uses the running mean and variance. {@code momentum}
     * follows DJL: the weight kept by the running statistics at each training step (DJL default 0.9).
     */
    record BatchNorm2d(int channels, float epsilon, float momentum) implements Layer {

        /** PyTorch's defaults: epsilon 1e-5, momentum 0.1 in PyTorch's sense, 0.9 in DJL's. */
        public BatchNorm2d(int channels) {
            this(channels, 1e-5f, 0.9f);
        }

        public long parameterCount() {
            return 2L * channels;
        }

        public <R> R accept(Visitor<R> visitor) {
            return visitor.visit(this);
        }
    }

    /** max(x, 0). */
    record Relu() implements Layer {
        public long parameterCount() {
            return 0;
        }

        public <R> R accept(Visitor<R> visitor) {
            return visitor.visit(this);
        }
    }

    /** min(max(x, 0), 6), MobileNetV2's activation. */
    record Relu6() implements Layer {
        public long parameterCount() {
            return 0;
        }

        public <R> R accept(Visitor<R> visitor) {
            return visitor.visit(this);
        }
    }

    /** Max pooling with a square window and an equal stride. */
    record MaxPool2d(int size) implements Layer {
        public long parameterCount() {
            return 0;
        }

        public <R> R accept(Visitor<R> visitor) {
            return visitor.visit(this);
        }
    }

    /** The mean over each channel's whole feature map: NCHW to (N, C), whatever H and W are. */
    record GlobalAvgPool() implements Layer {
        public long parameterCount() {
            return 0;
        }

        public <R> R accept(Visitor<R> visitor) {
            return visitor.visit(this);
        }
    }

    /** NCHW to (N, C*H*W), row-major. */
    record Flatten() implements Layer {
        public long parameterCount() {
            return 0;
        }

        public <R> R accept(Visitor<R> visitor) {
            return visitor.visit(this);
        }
    }

    /** Fully connected: y = x W^T + b, W of shape (out, in). */
    record Dense(int inFeatures, int outFeatures) implements Layer {
        public long parameterCount() {
            return (long) outFeatures * inFeatures + outFeatures;
        }

        public <R> R accept(Visitor<R> visitor) {
            return visitor.visit(this);
        }
    }

    /** Active in training only; the identity at inference. */
    record Dropout(float rate) implements Layer {
        public long parameterCount() {
            return 0;
        }

        public <R> R accept(Visitor<R> visitor) {
            return visitor.visit(this);
        }
    }

    /**
     * y = body(x) + shortcut(x), each a chain of layers applied in order; an empty shortcut is the
     * identity. Both chains must give the same shape. An activation after the sum is the next layer.
     */
    record Residual(List<Layer> body, List<Layer> shortcut) implements Layer {

        public Residual {
            body = List.copyOf(body);
            shortcut = List.copyOf(shortcut);
            if (body.isEmpty()) {
                throw new IllegalArgumentException("a residual unit needs a body");
            }
        }

        public long parameterCount() {
            return Layer.parameterCount(body) + Layer.parameterCount(shortcut);
        }

        public <R> R accept(Visitor<R> visitor) {
            return visitor.visit(this);
        }
    }
}

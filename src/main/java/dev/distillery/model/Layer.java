package dev.distillery.model;

/**
 * One layer of a catalogue network. The DJL block builder and the ONNX writer both walk the same
 * list of layers, so what is trained is exactly what is exported. Tensors are NCHW.
 */
public sealed interface Layer {

    /** Trainable parameters, counted as PyTorch counts them (BatchNorm running statistics excluded). */
    long parameterCount();

    /** 2-D convolution, stride 1, square kernel, zero padding on every side, with bias. */
    record Conv2d(int inChannels, int outChannels, int kernel, int padding) implements Layer {
        public long parameterCount() {
            return (long) outChannels * inChannels * kernel * kernel + outChannels;
        }
    }

    /**
     * Batch normalisation over channels; eval mode uses the running mean and variance. {@code momentum}
     * follows DJL: the weight kept by the running statistics at each training step (DJL default 0.9).
     */
    record BatchNorm2d(int channels, float epsilon, float momentum) implements Layer {
        public long parameterCount() {
            return 2L * channels;
        }
    }

    record Relu() implements Layer {
        public long parameterCount() {
            return 0;
        }
    }

    /** Max pooling with a square window and an equal stride. */
    record MaxPool2d(int size) implements Layer {
        public long parameterCount() {
            return 0;
        }
    }

    /** NCHW to (N, C*H*W), row-major. */
    record Flatten() implements Layer {
        public long parameterCount() {
            return 0;
        }
    }

    /** Fully connected: y = x W^T + b, W of shape (out, in). */
    record Dense(int inFeatures, int outFeatures) implements Layer {
        public long parameterCount() {
            return (long) outFeatures * inFeatures + outFeatures;
        }
    }

    /** Active in training only; the identity at inference. */
    record Dropout(float rate) implements Layer {
        public long parameterCount() {
            return 0;
        }
    }
}

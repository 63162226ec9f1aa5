package dev.distillery.model;

import java.util.List;

/**
 * A convolution without bias followed by BatchNorm (PyTorch's defaults), the unit resnet and
 * mobilenetv2 are made of; BatchNorm's beta takes the place of the bias. The padding is
 * {@code kernel / 2}, so an odd kernel keeps the size at stride 1 and gives ceil(side / stride)
 * otherwise.
 */
final class ConvBn {

    private ConvBn() {}

    /** Appends the convolution (in {@code groups} groups) and its BatchNorm to {@code layers}. */
    static void append(List<Layer> layers, int in, int out, int kernel, int stride, int groups) {
        layers.add(new Layer.Conv2d(in, out, kernel, stride, kernel / 2, groups, false));
        layers.add(new Layer.BatchNorm2d(out));
    }
}

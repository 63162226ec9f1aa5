package dev.distillery.model;

import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.Blocks;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.BatchNorm;
import ai.djl.nn.norm.Dropout;
import ai.djl.nn.pooling.Pool;

/**
 * Builds the DJL block of a {@link Network}: a {@link SequentialBlock} with exactly one child per
 * {@link Layer}, in order, so that child {@code i} holds the parameters of layer {@code i}.
 */
public final class DjlBlocks {

    private DjlBlocks() {}

    public static SequentialBlock toBlock(Network network) {
        SequentialBlock block = new SequentialBlock();
        for (Layer layer : network.layers()) {
            block.add(toBlock(layer));
        }
        return block;
    }

    private static Block toBlock(Layer layer) {
        if (layer instanceof Layer.Conv2d conv) {
            return ai.djl.nn.convolutional.Conv2d.builder()
                    .setKernelShape(new Shape(conv.kernel(), conv.kernel()))
                    .optPadding(new Shape(conv.padding(), conv.padding()))
                    .setFilters(conv.outChannels())
                    .build();
        } else if (layer instanceof Layer.BatchNorm2d norm) {
            return BatchNorm.builder()
                    .optEpsilon(norm.epsilon())
                    .optMomentum(norm.momentum())
                    .build();
        } else if (layer instanceof Layer.Relu) {
            return Activation.reluBlock();
        } else if (layer instanceof Layer.MaxPool2d pool) {
            Shape window = new Shape(pool.size(), pool.size());
            return Pool.maxPool2dBlock(window, window);
        } else if (layer instanceof Layer.Flatten) {
            return Blocks.batchFlattenBlock();
        } else if (layer instanceof Layer.Dense dense) {
            return Linear.builder().setUnits(dense.outFeatures()).build();
        } else if (layer instanceof Layer.Dropout dropout) {
            return Dropout.builder().optRate(dropout.rate()).build();
        }
        throw new IllegalArgumentException("no DJL block for layer " + layer);
    }
}

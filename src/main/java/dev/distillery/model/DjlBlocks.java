package dev.distillery.model;

import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.Blocks;
import ai.djl.nn.ParallelBlock;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.BatchNorm;
import ai.djl.nn.norm.Dropout;
import ai.djl.nn.pooling.Pool;
import java.util.List;

/**
 * Builds the DJL block of a {@link Network}. A chain of layers becomes a {@link SequentialBlock}
 * with exactly one child per {@link Layer}, in order, so that child {@code i} holds the parameters
 * of layer {@code i}. A {@link Layer.Residual} becomes a {@link ParallelBlock} that adds its two
 * children's outputs, as DJL's ResNetV1 builds a residual unit: child 0 is the body's chain, child
 * 1 the shortcut's chain (DJL's identity block when the shortcut is empty).
 */
public final class DjlBlocks {

    private static final Builder BUILDER = new Builder();

    private DjlBlocks() {}

    public static SequentialBlock toBlock(Network network) {
        return chain(network.layers());
    }

    private static SequentialBlock chain(List<Layer> layers) {
        SequentialBlock block = new SequentialBlock();
        for (Layer layer : layers) {
            block.add(layer.accept(BUILDER));
        }
        return block;
    }

    /** The DJL block of one layer. */
    private static final class Builder implements Layer.Visitor<Block> {

        @Override
        public Block visit(Layer.Conv2d conv) {
            return ai.djl.nn.convolutional.Conv2d.builder()
                    .setKernelShape(new Shape(conv.kernel(), conv.kernel()))
                    .optStride(new Shape(conv.stride(), conv.stride()))
                    .optPadding(new Shape(conv.padding(), conv.padding()))
                    .optGroups(conv.groups())
                    .optBias(conv.bias())
                    .setFilters(conv.outChannels())
                    .build();
        }

        @Override
        public Block visit(Layer.BatchNorm2d norm) {
            return BatchNorm.builder()
                    .optEpsilon(norm.epsilon())
                    .optMomentum(norm.momentum())
                    .build();
        }

        @Override
        public Block visit(Layer.Relu relu) {
            return Activation.reluBlock();
        }

        @Override
        public Block visit(Layer.Relu6 relu6) {
            return Activation.relu6Block();
        }

        @Override
        public Block visit(Layer.MaxPool2d pool) {
            Shape window = new Shape(pool.size(), pool.size());
            return Pool.maxPool2dBlock(window, window);
        }

        @Override
        public Block visit(Layer.GlobalAvgPool pool) {
            return Pool.globalAvgPool2dBlock();
        }

        @Override
        public Block visit(Layer.Flatten flatten) {
            return Blocks.batchFlattenBlock();
        }

        @Override
        public Block visit(Layer.Dense dense) {
            return Linear.builder().setUnits(dense.outFeatures()).build();
        }

        @Override
        public Block visit(Layer.Dropout dropout) {
            return Dropout.builder().optRate(dropout.rate()).build();
        }

        @Override
        public Block visit(Layer.Residual residual) {
            Block shortcut = residual.shortcut().isEmpty() ? Blocks.identityBlock() : chain(residual.shortcut());
            return new ParallelBlock(Builder::sum, List.of(chain(residual.body()), shortcut));
        }

        /** The element-wise sum of the branches' single outputs. */
        private static NDList sum(List<NDList> branches) {
            return new NDList(branches.get(0).singletonOrThrow().add(branches.get(1).singletonOrThrow()));
        }
    }
}

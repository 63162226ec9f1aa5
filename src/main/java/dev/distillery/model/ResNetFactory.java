package dev.distillery.model;

import dev.distillery.error.DistilleryException;
import java.util.ArrayList;
import java.util.List;

/**
 * "resnet": the CIFAR ResNet of He et al. 2016 (section 4.2), as mdistiller and RepDistiller build
 * resnet8/14/20/32. With n = (depth − 2) / 6 and every channel count c scaled to
 * max(1, round(c · width_multiplier)):
 * <ul>
 *   <li>stem: 3x3 convolution to 16 channels, BatchNorm, ReLU;
 *   <li>three stages of n basic blocks with 16, 32 and 64 channels; the first block of stages 2
 *       and 3 has stride 2, so the feature map ends at ceil(side / 4);
 *   <li>basic block: y = ReLU(body(x) + shortcut(x)), body = 3x3 conv (stride s), BatchNorm, ReLU,
 *       3x3 conv, BatchNorm; shortcut = the identity, or a 1x1 conv with stride s and BatchNorm
 *       where the shape changes (the paper's option B);
 *   <li>head: global average pooling, Dropout when {@code dropout > 0}, Dense to the classes.
 * </ul>
 * Convolutions before a BatchNorm have no bias. resnet20 at width 1 on 3x32x32 inputs with 10
 * classes has 272,474 parameters, the figure usually quoted for it (the option-A zero-padding
 * shortcut, which has no parameters, gives 269,722).
 */
public final class ResNetFactory implements ArchitectureFactory {

    /** 6n + 2 for n = 1, 2, 3 and 5 basic blocks per stage. */
    static final List<Integer> DEPTHS = List.of(8, 14, 20, 32);

    private static final int STEM_CHANNELS = 16;
    private static final int[] STAGE_CHANNELS = {16, 32, 64};
    private static final int KERNEL = 3;
    /** Stages 2 and 3 each halve the feature map. */
    private static final int TOTAL_STRIDE = 4;

    @Override
    public List<String> settings() {
        return List.of("depth", "width_multiplier", "dropout");
    }

    @Override
    public Network build(ArchitectureSpec spec, int channels, int height, int width, int classes) {
        int blocksPerStage = blocksPerStage(spec.depth());
        float multiplier = WidthMultiplier.of(spec);
        checkInputSize(height, width);
        List<Layer> layers = new ArrayList<>();
        int in = scaled(STEM_CHANNELS, multiplier);
        ConvBn.append(layers, channels, in, KERNEL, 1, 1);
        layers.add(new Layer.Relu());
        for (int stage = 0; stage < STAGE_CHANNELS.length; stage++) {
            int out = scaled(STAGE_CHANNELS[stage], multiplier);
            for (int block = 0; block < blocksPerStage; block++) {
                int stride = stage > 0 && block == 0 ? 2 : 1;
                layers.add(basicBlock(in, out, stride));
                layers.add(new Layer.Relu());
                in = out;
            }
        }
        PooledHead.append(layers, in, spec, classes);
        return new Network(spec, channels, height, width, classes, layers);
    }

    /** body(x) + shortcut(x); the ReLU after the sum is the next layer. */
    private static Layer.Residual basicBlock(int in, int out, int stride) {
        List<Layer> body = new ArrayList<>();
        ConvBn.append(body, in, out, KERNEL, stride, 1);
        body.add(new Layer.Relu());
        ConvBn.append(body, out, out, KERNEL, 1, 1);
        List<Layer> shortcut = new ArrayList<>();
        if (stride != 1 || in != out) {
            ConvBn.append(shortcut, in, out, 1, stride, 1);
        }
        return new Layer.Residual(body, shortcut);
    }

    private static int blocksPerStage(int depth) {
        if (!DEPTHS.contains(depth)) {
            throw DistilleryException.invalid(
                    "resnet: depth is %s; choose one of %s (6n + 2 layers, n basic blocks per stage)",
                    depth == 0 ? "unset" : depth, DEPTHS);
        }
        return (depth - 2) / 6;
    }

    private static void checkInputSize(int height, int width) {
        if (Math.min(height, width) < TOTAL_STRIDE) {
            throw DistilleryException.invalid(
                    "resnet halves the image twice (total stride %d), so each side needs at least %d pixels;"
                            + " the input is %dx%d",
                    TOTAL_STRIDE, TOTAL_STRIDE, height, width);
        }
    }

    private static int scaled(int channels, float multiplier) {
        return Math.max(1, Math.round(channels * multiplier));
    }
}

package dev.distillery.model;

import dev.distillery.error.DistilleryException;
import java.util.ArrayList;
import java.util.List;

/**
 * "mobilenetv2": MobileNetV2 (Sandler et al. 2018, table 2), laid out as torchvision's
 * {@code mobilenet_v2}:
 * <ul>
 *   <li>stem: 3x3 convolution to 32 channels, BatchNorm, ReLU6;
 *   <li>inverted residual blocks, by rows (t, c, n, s) of the paper's table: (1, 16, 1, 1),
 *       (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1):
 *       n blocks with c output channels, the first with stride s. A block expands its input to t
 *       times the channels (1x1 conv, BatchNorm, ReLU6; left out when t = 1), filters each channel
 *       alone (3x3 depthwise conv with the stride, BatchNorm, ReLU6) and projects to c channels
 *       (1x1 conv, BatchNorm, no activation); the input is added when the stride is 1 and the
 *       channels do not change;
 *   <li>a 1x1 convolution to 1280 channels, BatchNorm, ReLU6;
 *   <li>head: global average pooling, Dropout when {@code dropout > 0} (torchvision uses 0.2),
 *       Dense to the classes.
 * </ul>
 * Convolutions have no bias. The width multiplier w scales the stem, every c and the last 1280
 * (the paper keeps 1280 when w &lt; 1; here the whole network shrinks, as a small student
 * should), each rounded as the paper's code does to a multiple of 8, at least 8 and at least 90 %
 * of the scaled count. At w = 1 the parameters are torchvision's (2,236,682 with 10 classes).
 *
 * <p>Small inputs: the standard network halves the image five times (the stem and the first
 * block of the 24, 32, 64 and 160 channel rows), to 7x7 from 224x224, but only to 1x1 from 32x32.
 * So strides are set to 1 from the front, the stem's first, until the last feature map is at
 * least {@value #MIN_FEATURE_MAP}x{@value #MIN_FEATURE_MAP}: inputs of 97 pixels a side or more
 * keep all five; 64x64 drops the stem's (4x4 at the end); 32x32 and 28x28 also the 24 row's (4x4,
 * the usual CIFAR MobileNetV2). Every input needs at least that many pixels a side.
 */
public final class MobileNetV2Factory implements ArchitectureFactory {

    private static final int STEM_CHANNELS = 32;
    private static final int LAST_CHANNELS = 1280;
    private static final int KERNEL = 3;
    private static final int DIVISOR = 8;
    /** The smallest last feature map side that the stride rule keeps. */
    static final int MIN_FEATURE_MAP = 4;

    /** A row of the paper's table 2: n blocks, expansion t, c output channels, first stride s. */
    private record Row(int expansion, int channels, int blocks, int stride) {}

    private static final List<Row> ROWS = List.of(
            new Row(1, 16, 1, 1),
            new Row(6, 24, 2, 2),
            new Row(6, 32, 3, 2),
            new Row(6, 64, 4, 2),
            new Row(6, 96, 3, 1),
            new Row(6, 160, 3, 2),
            new Row(6, 320, 1, 1));

    /** Stride-2 places, the stem's and the rows' with s = 2, in order. */
    private static final int HALVINGS = 1 + (int) ROWS.stream().filter(row -> row.stride() == 2).count();

    @Override
    public List<String> settings() {
        return List.of("width_multiplier", "dropout");
    }

    @Override
    public Network build(ArchitectureSpec spec, int channels, int height, int width, int classes) {
        float multiplier = WidthMultiplier.of(spec);
        int side = Math.min(height, width);
        if (side < MIN_FEATURE_MAP) {
            throw DistilleryException.invalid(
                    "mobilenetv2 needs at least %d pixels a side; the input is %dx%d",
                    MIN_FEATURE_MAP, height, width);
        }
        // The first `dropped` stride-2 places, counted from the stem's (place 0), run at stride 1.
        int dropped = HALVINGS - keptHalvings(side);
        int place = 0;
        List<Layer> layers = new ArrayList<>();
        int in = divisible(STEM_CHANNELS * multiplier);
        ConvBn.append(layers, channels, in, KERNEL, strideAt(place++, dropped), 1);
        layers.add(new Layer.Relu6());
        for (Row row : ROWS) {
            int out = divisible(row.channels() * multiplier);
            int stride = row.stride() == 2 ? strideAt(place++, dropped) : 1;
            for (int block = 0; block < row.blocks(); block++) {
                appendInvertedResidual(layers, in, out, row.expansion(), block == 0 ? stride : 1);
                in = out;
            }
        }
        int last = divisible(LAST_CHANNELS * multiplier);
        ConvBn.append(layers, in, last, 1, 1, 1);
        layers.add(new Layer.Relu6());
        PooledHead.append(layers, last, spec, classes);
        return new Network(spec, channels, height, width, classes, layers);
    }

    private static int strideAt(int place, int dropped) {
        return place < dropped ? 1 : 2;
    }

    /** The most halvings, at most all of them, that leave ceil(side / 2^k) >= MIN_FEATURE_MAP. */
    private static int keptHalvings(int side) {
        int kept = 0;
        while (kept < HALVINGS && ceilDiv(side, 1 << (kept + 1)) >= MIN_FEATURE_MAP) {
            kept++;
        }
        return kept;
    }

    /** Expand (t > 1), depthwise, project; a residual unit when the shapes allow adding the input. */
    private static void appendInvertedResidual(List<Layer> layers, int in, int out, int expansion, int stride) {
        List<Layer> body = new ArrayList<>();
        int hidden = in * expansion;
        if (expansion != 1) {
            ConvBn.append(body, in, hidden, 1, 1, 1);
            body.add(new Layer.Relu6());
        }
        ConvBn.append(body, hidden, hidden, KERNEL, stride, hidden);
        body.add(new Layer.Relu6());
        ConvBn.append(body, hidden, out, 1, 1, 1);
        if (stride == 1 && in == out) {
            layers.add(new Layer.Residual(body, List.of()));
        } else {
            layers.addAll(body);
        }
    }

    /**
     * The paper code's {@code _make_divisible}: the nearest multiple of 8, at least 8, raised by 8
     * when rounding down lost more than 10 %.
     */
    static int divisible(double channels) {
        int rounded = Math.max(DIVISOR, (int) (channels + DIVISOR / 2.0) / DIVISOR * DIVISOR);
        return rounded < 0.9 * channels ? rounded + DIVISOR : rounded;
    }

    private static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }
}

package dev.distillery.data;

import dev.distillery.error.DistilleryException;
import dev.distillery.v1.Preprocessing;
import java.nio.FloatBuffer;
import java.util.List;
import java.util.stream.IntStream;

/**
 * How an image becomes one model's input, as a {@link Preprocessing} says: the one implementation
 * behind the student's training inputs, the teacher's inputs and Predict.
 *
 * <ol>
 *   <li>colour: to gray or RGB ({@link Pixels#withChannels});
 *   <li>size: with {@code resize > 0}, the shorter side to {@code resize} (the longer one to
 *       {@code floor(resize * long / short)}), then a center crop to the input size (top-left corner
 *       at {@code round((resized - input) / 2)}, halves to even; zero padding where the crop is larger)
 *       or, without {@code center_crop}, a resize to the input size; with {@code resize = 0}, a resize
 *       straight to the input size. Resizing is {@link BilinearResize};
 *   <li>values: {@code (p / 255 - mean[c]) / std[c]}.
 * </ol>
 *
 * Those are torchvision's {@code Resize}, {@code CenterCrop}, {@code ToTensor} and {@code Normalize}:
 * the seed's pipeline is color "rgb", resize 256, center_crop, ImageNet mean and std at 224 x 224. A gray
 * image already at the input size keeps its exact values.
 */
public final class ImagePipeline {

    public static final String GRAY = "gray";
    public static final String RGB = "rgb";

    private final int channels;
    private final int height;
    private final int width;
    private final int resize;
    private final boolean centerCrop;
    private final Normalization normalization;
    private final float[][] table;

    private ImagePipeline(int channels, int height, int width, int resize, boolean centerCrop,
            Normalization normalization) {
        if (normalization.channels() != channels) {
            throw DistilleryException.invalid("normalization is for %d channels but the input has %d",
                    normalization.channels(), channels);
        }
        this.channels = channels;
        this.height = height;
        this.width = width;
        this.resize = resize;
        this.centerCrop = centerCrop;
        this.normalization = normalization;
        this.table = normalization.table();
    }

    /**
     * The pipeline to inputs of {@code channels x height x width}. An empty color follows the channels;
     * empty mean and std are 0 and 1, and a single value applies to every channel. The one owner of the
     * preprocessing rules: uploads, recipes and stored models are all checked here.
     *
     * @throws DistilleryException INVALID_ARGUMENT, naming the field, when the preprocessing does not
     *     fit the input shape
     */
    public static ImagePipeline of(Preprocessing pre, int channels, int height, int width) {
        if (channels != 1 && channels != 3 || height <= 0 || width <= 0) {
            throw DistilleryException.invalid(
                    "input shape %dx%dx%d is not an image: 1 (gray) or 3 (rgb) channels and a positive size",
                    channels, height, width);
        }
        checkPreprocessing(pre);
        if (!pre.getColor().isEmpty() && channels(pre.getColor()) != channels) {
            throw DistilleryException.invalid("preprocessing.color is '%s' but the input has %d channel(s)",
                    pre.getColor(), channels);
        }
        if (pre.getCenterCrop() && pre.getResize() < Math.max(height, width)) {
            throw DistilleryException.invalid(
                    "preprocessing.center_crop needs resize >= the input's larger side (%d), got resize %d",
                    Math.max(height, width), pre.getResize());
        }
        Normalization normalization = new Normalization(perChannel(pre.getMeanList(), "mean", channels, 0f),
                perChannel(pre.getStdList(), "std", channels, 1f));
        return new ImagePipeline(channels, height, width, pre.getResize(), pre.getCenterCrop(), normalization);
    }

    /**
     * The rules that hold whatever the input's shape, for checks made before the shape is known: a
     * known colour, a resize of at least 0, and a center crop only after a resize.
     */
    public static void checkPreprocessing(Preprocessing pre) {
        if (!pre.getColor().isEmpty()) {
            channels(pre.getColor());
        }
        if (pre.getResize() < 0) {
            throw DistilleryException.invalid("preprocessing.resize must be >= 0 (0 = straight to the input size), got %d",
                    pre.getResize());
        }
        if (pre.getCenterCrop() && pre.getResize() == 0) {
            throw DistilleryException.invalid("preprocessing.center_crop needs preprocessing.resize > 0: the shorter "
                    + "side is resized first, then the input's height and width are cropped from the center");
        }
    }

    /** Channels of a colour name: 1 for "gray", 3 for "rgb". */
    public static int channels(String color) {
        return switch (color) {
            case GRAY -> 1;
            case RGB -> 3;
            default -> throw DistilleryException.invalid("preprocessing.color must be '%s' or '%s', got '%s'",
                    GRAY, RGB, color);
        };
    }

    /** One value per channel; a single value applies to every channel. */
    private static float[] perChannel(List<Float> values, String field, int channels, float fallback) {
        if (values.size() > 1 && values.size() != channels) {
            throw DistilleryException.invalid("preprocessing.%s has %d values: give one per channel (%d) or one for all",
                    field, values.size(), channels);
        }
        float[] out = new float[channels];
        for (int c = 0; c < channels; c++) {
            out[c] = values.isEmpty() ? fallback : values.get(values.size() == 1 ? 0 : c);
        }
        return out;
    }

    /** The same sizes and colour with another normalisation (one fitted on the training images, say). */
    public ImagePipeline withNormalization(Normalization fitted) {
        return new ImagePipeline(channels, height, width, resize, centerCrop, fitted);
    }

    public Normalization normalization() {
        return normalization;
    }

    /** This pipeline as model.json states it, mean and std per channel. */
    public Preprocessing preprocessing() {
        Preprocessing.Builder pre = Preprocessing.newBuilder()
                .setColor(channels == 1 ? GRAY : RGB)
                .setResize(resize)
                .setCenterCrop(centerCrop);
        for (int c = 0; c < channels; c++) {
            pre.addMean(normalization.mean()[c]).addStd(normalization.std()[c]);
        }
        return pre.build();
    }

    public int channels() {
        return channels;
    }

    public int height() {
        return height;
    }

    public int width() {
        return width;
    }

    /** Floats in one input: channels x height x width. */
    public int imageSize() {
        return channels * height * width;
    }

    /** {@code image} in this input's colour and size, still 8-bit. */
    public Pixels prepare(Pixels image) {
        return prepare(AugmentedImage.of(image));
    }

    /** An augmented image in this input's colour and size; a randomly cropped region is resized straight. */
    public Pixels prepare(AugmentedImage image) {
        Pixels colour = image.pixels().withChannels(channels);
        if (image.cropped() || resize == 0) {
            return BilinearResize.resize(colour, height, width);
        }
        int shortSide = Math.min(colour.height(), colour.width());
        int longSide = (int) ((double) resize * Math.max(colour.height(), colour.width()) / shortSide);
        boolean portrait = colour.width() <= colour.height();
        Pixels resized = BilinearResize.resize(colour, portrait ? longSide : resize, portrait ? resize : longSide);
        if (!centerCrop) {
            return BilinearResize.resize(resized, height, width);
        }
        return resized.crop(cropStart(resized.height(), height), cropStart(resized.width(), width), height, width);
    }

    /** torchvision's CenterCrop: {@code round((size - crop) / 2)}, or centred zero padding when the crop is larger. */
    private static int cropStart(int size, int crop) {
        return size >= crop ? (int) Math.rint((size - crop) / 2.0) : -((crop - size) / 2);
    }

    /**
     * Every image of {@code images} prepared, with its label, in memory: {@code images} itself when it is
     * in memory at this input's size and colour and this pipeline resizes nothing.
     */
    public ImageSet prepareAll(ImageSource images) {
        if (images instanceof ImageSet set && resize == 0
                && set.shape().equals(new ImageShape(channels, height, width))) {
            return set;
        }
        int size = imageSize();
        byte[] pixels = new byte[Math.multiplyExact(images.count(), size)];
        for (int i = 0; i < images.count(); i++) {
            System.arraycopy(prepare(images.image(i)).values(), 0, pixels, i * size, size);
        }
        return new ImageSet(images.count(), channels, height, width, pixels,
                images.labels(IntStream.range(0, images.count()).toArray()));
    }

    /** Writes the normalised floats of a prepared image into {@code out} from {@code offset}. */
    public void normalize(Pixels prepared, float[] out, int offset) {
        checkPrepared(prepared);
        byte[] values = prepared.values();
        int plane = height * width;
        for (int c = 0; c < channels; c++) {
            float[] lookup = table[c];
            for (int i = c * plane; i < (c + 1) * plane; i++) {
                out[offset + i] = lookup[values[i] & 0xff];
            }
        }
    }

    /** Writes the normalised floats of a prepared image into {@code out} at its position. */
    public void normalize(Pixels prepared, FloatBuffer out) {
        float[] floats = new float[imageSize()];
        normalize(prepared, floats, 0);
        out.put(floats);
    }

    /**
     * Decodes an encoded image of at most {@code maxPixels} pixels and writes its input floats into
     * {@code out} at its position.
     *
     * @throws DistilleryException INVALID_ARGUMENT when the bytes are no readable image, RESOURCE_EXHAUSTED
     *     when its header announces more than {@code maxPixels} pixels
     */
    public void write(byte[] encoded, long maxPixels, FloatBuffer out) {
        normalize(prepare(ImageDecoder.decode(encoded, maxPixels)), out);
    }

    private void checkPrepared(Pixels prepared) {
        if (prepared.channels() != channels || prepared.height() != height || prepared.width() != width) {
            throw new IllegalArgumentException(String.format("expected a prepared %dx%dx%d image, got %s",
                    channels, height, width, prepared.shape()));
        }
    }
}

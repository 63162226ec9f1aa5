package dev.distillery.data;

import dev.distillery.v1.Augmentation;
import dev.distillery.v1.RandomResizedCrop;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Random transforms of a training image, in the dataset's own pixels and before any model's
 * preprocessing, with torchvision's semantics, in this order:
 *
 * <ol>
 *   <li>random resized crop: a region of area {@code A * U(minScale, maxScale)} and aspect ratio
 *       {@code exp(U(ln minRatio, ln maxRatio))}, {@code w = round(sqrt(area * ratio))},
 *       {@code h = round(sqrt(area / ratio))} (halves to even, as Python), at a uniform place; when 10 draws give no region inside the
 *       image, the central region of the image clamped to the ratio range. Each model then resizes the
 *       region straight to its input size ({@link AugmentedImage#cropped});
 *   <li>random crop with padding {@code p}: {@code p} zero pixels on every side, then a window of the
 *       image's size at a uniform place among the {@code (2p + 1)^2};
 *   <li>horizontal flip with probability 1/2.
 * </ol>
 *
 * Every draw comes from the {@link Random} the caller passes, so one seed per (run, epoch, image) makes
 * an epoch's images repeat exactly.
 */
public final class Augmenter {

    public static final float DEFAULT_MIN_SCALE = 0.08f;
    public static final float DEFAULT_MAX_SCALE = 1f;
    public static final float DEFAULT_MIN_RATIO = 3f / 4;
    public static final float DEFAULT_MAX_RATIO = 4f / 3;
    private static final int ATTEMPTS = 10;

    private final int padding;
    private final RandomResizedCrop resizedCrop;
    private final boolean flip;

    private Augmenter(int padding, RandomResizedCrop resizedCrop, boolean flip) {
        this.padding = padding;
        this.resizedCrop = resizedCrop;
        this.flip = flip;
    }

    /** The transforms {@code spec} turns on; unset scale and ratio bounds take torchvision's defaults. */
    public static Augmenter of(Augmentation spec) {
        return new Augmenter(spec.getRandomCropPadding(), withDefaults(spec.getRandomResizedCrop()),
                spec.getHorizontalFlip());
    }

    /** {@code crop} with every unset bound at its default. */
    public static RandomResizedCrop withDefaults(RandomResizedCrop crop) {
        RandomResizedCrop.Builder out = crop.toBuilder();
        if (!crop.hasMinScale()) {
            out.getMinScaleBuilder().setValue(DEFAULT_MIN_SCALE);
        }
        if (!crop.hasMaxScale()) {
            out.getMaxScaleBuilder().setValue(DEFAULT_MAX_SCALE);
        }
        if (!crop.hasMinRatio()) {
            out.getMinRatioBuilder().setValue(DEFAULT_MIN_RATIO);
        }
        if (!crop.hasMaxRatio()) {
            out.getMaxRatioBuilder().setValue(DEFAULT_MAX_RATIO);
        }
        return out.build();
    }

    /** True when any transform is on. */
    public boolean active() {
        return padding > 0 || resizedCrop.getEnabled() || flip;
    }

    /** The transforms that are on, for a person: "random resized crop (scale 0.08-1, ratio 0.75-1.33), flip". */
    public String describe() {
        List<String> parts = new ArrayList<>();
        if (resizedCrop.getEnabled()) {
            parts.add(String.format("random resized crop (scale %s-%s, ratio %.2f-%.2f)",
                    resizedCrop.getMinScale().getValue(), resizedCrop.getMaxScale().getValue(),
                    resizedCrop.getMinRatio().getValue(), resizedCrop.getMaxRatio().getValue()));
        }
        if (padding > 0) {
            parts.add("random crop with padding " + padding);
        }
        if (flip) {
            parts.add("horizontal flip");
        }
        return parts.isEmpty() ? "none" : String.join(", ", parts);
    }

    /** One random view of {@code image}. */
    public AugmentedImage apply(Pixels image, Random random) {
        Pixels out = image;
        if (resizedCrop.getEnabled()) {
            Region region = resizedCropRegion(out.height(), out.width(), resizedCrop, random);
            out = out.crop(region.top(), region.left(), region.height(), region.width());
        }
        if (padding > 0) {
            int top = random.nextInt(2 * padding + 1) - padding;
            int left = random.nextInt(2 * padding + 1) - padding;
            out = out.crop(top, left, out.height(), out.width());
        }
        if (flip && random.nextBoolean()) {
            out = out.mirrored();
        }
        return new AugmentedImage(out, resizedCrop.getEnabled());
    }

    /** A rectangle of an image: top-left corner and size, in pixels. */
    public record Region(int top, int left, int height, int width) {}

    /** torchvision's {@code RandomResizedCrop.get_params} for an image of {@code height x width}. */
    public static Region resizedCropRegion(int height, int width, RandomResizedCrop spec, Random random) {
        double area = (double) height * width;
        double minScale = spec.getMinScale().getValue();
        double maxScale = spec.getMaxScale().getValue();
        double minRatio = spec.getMinRatio().getValue();
        double maxRatio = spec.getMaxRatio().getValue();
        double logMin = Math.log(minRatio);
        double logMax = Math.log(maxRatio);
        for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
            double target = area * (minScale + (maxScale - minScale) * random.nextDouble());
            double ratio = Math.exp(logMin + (logMax - logMin) * random.nextDouble());
            int w = (int) Math.rint(Math.sqrt(target * ratio));
            int h = (int) Math.rint(Math.sqrt(target / ratio));
            if (w > 0 && w <= width && h > 0 && h <= height) {
                return new Region(random.nextInt(height - h + 1), random.nextInt(width - w + 1), h, w);
            }
        }
        double inRatio = (double) width / height;
        int w = width;
        int h = height;
        if (inRatio < minRatio) {
            h = Math.max(1, (int) Math.rint(w / minRatio));
        } else if (inRatio > maxRatio) {
            w = Math.max(1, (int) Math.rint(h * maxRatio));
        }
        return new Region((height - h) / 2, (width - w) / 2, h, w);
    }
}

package dev.distillery.serve;

import dev.distillery.data.Normalization;
import dev.distillery.error.DistilleryException;
import dev.distillery.v1.Preprocessing;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.FloatBuffer;
import javax.imageio.ImageIO;

/**
 * Turns an encoded image into a model's input, as its model.json says: decode, convert to gray or
 * RGB, resize (shorter side to {@code resize}, then center crop; or straight to the input size),
 * scale to [0, 1], then {@code (x - mean[c]) / std[c]}. This is the seed's torchvision pipeline
 * (Resize, CenterCrop, ToTensor, Normalize) for an RGB model, and the identity on pixel values for a
 * gray image already at the input size.
 */
public final class ImagePreprocessor {

    static {
        ImageIO.setUseCache(false);
    }

    private ImagePreprocessor() {}

    /**
     * Decodes {@code encoded} and writes {@code normalization.channels()} x height x width floats into
     * {@code out} at its position; {@code pre} says how to resize.
     */
    public static void write(byte[] encoded, Preprocessing pre, Normalization normalization, int height, int width,
            FloatBuffer out) {
        BufferedImage sized = resize(decode(encoded), pre, width, height);
        int channels = normalization.channels();
        for (int c = 0; c < channels; c++) {
            float mean = normalization.mean()[c];
            float std = normalization.std()[c];
            for (int y = 0; y < height; y++) {
                for (int x = 0; x < width; x++) {
                    out.put((value(sized, x, y, c, channels) / 255f - mean) / std);
                }
            }
        }
    }

    /**
     * Channel {@code c} of a pixel, 0-255. Gray images keep their exact 8-bit values (read from the
     * raster, with no colour conversion); a colour image becomes gray by ITU-R BT.601 luma.
     */
    private static float value(BufferedImage image, int x, int y, int c, int channels) {
        if (channels == 1 && image.getType() == BufferedImage.TYPE_BYTE_GRAY) {
            return image.getRaster().getSample(x, y, 0);
        }
        int rgb = image.getRGB(x, y);
        if (channels == 1) {
            return 0.299f * ((rgb >> 16) & 0xff) + 0.587f * ((rgb >> 8) & 0xff) + 0.114f * (rgb & 0xff);
        }
        return (rgb >> (16 - 8 * c)) & 0xff;
    }

    private static BufferedImage decode(byte[] encoded) {
        if (encoded.length == 0) {
            throw DistilleryException.invalid("image is empty: send the bytes of a PNG, JPEG, GIF or BMP file");
        }
        BufferedImage image;
        try {
            image = ImageIO.read(new ByteArrayInputStream(encoded));
        } catch (IOException | RuntimeException e) {
            throw DistilleryException.invalid("image could not be decoded (%s): send a PNG, JPEG, GIF or BMP file",
                    e.getMessage());
        }
        if (image == null) {
            throw DistilleryException.invalid(
                    "image could not be decoded: %d bytes in no format this server reads (PNG, JPEG, GIF, BMP)",
                    encoded.length);
        }
        return image;
    }

    private static BufferedImage resize(BufferedImage image, Preprocessing pre, int width, int height) {
        if (pre.getResize() <= 0) {
            return image.getWidth() == width && image.getHeight() == height ? image : scale(image, width, height);
        }
        double factor = (double) pre.getResize() / Math.min(image.getWidth(), image.getHeight());
        BufferedImage resized = scale(image,
                Math.max(1, (int) Math.round(image.getWidth() * factor)),
                Math.max(1, (int) Math.round(image.getHeight() * factor)));
        if (!pre.getCenterCrop()) {
            return scale(resized, width, height);
        }
        if (resized.getWidth() < width || resized.getHeight() < height) {
            throw DistilleryException.precondition(
                    "model.json resizes to %d but crops %dx%d: the crop must fit", pre.getResize(), width, height);
        }
        int left = (resized.getWidth() - width) / 2;
        int top = (resized.getHeight() - height) / 2;
        return resized.getSubimage(left, top, width, height);
    }

    private static BufferedImage scale(BufferedImage image, int width, int height) {
        int type = image.getType() == BufferedImage.TYPE_BYTE_GRAY ? BufferedImage.TYPE_BYTE_GRAY : BufferedImage.TYPE_INT_RGB;
        BufferedImage scaled = new BufferedImage(width, height, type);
        Graphics2D g = scaled.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
            g.drawImage(image, 0, 0, width, height, null);
        } finally {
            g.dispose();
        }
        return scaled;
    }
}

package dev.distillery.serve;

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

    /** Decodes {@code encoded} and writes channels*height*width floats into {@code out} at its position. */
    public static void write(byte[] encoded, Preprocessing pre, int channels, int height, int width, FloatBuffer out) {
        BufferedImage image = decode(encoded);
        BufferedImage sized = resize(image, pre, width, height);
        float[] mean = ModelInputs.perChannel(pre.getMeanList(), channels, 0f);
        float[] std = ModelInputs.perChannel(pre.getStdList(), channels, 1f);
        for (int c = 0; c < channels; c++) {
            for (int y = 0; y < height; y++) {
                for (int x = 0; x < width; x++) {
                    int rgb = sized.getRGB(x, y);
                    float value = channels == 1 ? gray(sized, x, y, rgb) : (rgb >> (16 - 8 * c)) & 0xff;
                    out.put((value / 255f - mean[c]) / std[c]);
                }
            }
        }
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

    /** Gray images keep their exact 8-bit values; colour images use ITU-R BT.601 luma. */
    private static float gray(BufferedImage image, int x, int y, int rgb) {
        if (image.getType() == BufferedImage.TYPE_BYTE_GRAY) {
            return image.getRaster().getSample(x, y, 0);
        }
        return 0.299f * ((rgb >> 16) & 0xff) + 0.587f * ((rgb >> 8) & 0xff) + 0.114f * (rgb & 0xff);
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

package dev.distillery.data;

/**
 * One image as 8-bit samples, channel after channel (CHW), each channel row-major: what a decoder gives
 * and what colour conversion, cropping, flipping and resizing work on before a model's floats are made.
 *
 * <p>The record keeps the array it is given; every operation returns a new image.
 *
 * @param channels 1 (gray) or 3 (red, green, blue)
 * @param height rows
 * @param width columns
 * @param values {@code channels * height * width} samples, 0-255 as unsigned bytes
 */
public record Pixels(int channels, int height, int width, byte[] values) {

    public Pixels {
        if (channels != 1 && channels != 3 || height <= 0 || width <= 0) {
            throw new IllegalArgumentException(String.format(
                    "an image has 1 or 3 channels and a positive size, got %d x %d x %d", channels, height, width));
        }
        if (values.length != (long) channels * height * width) {
            throw new IllegalArgumentException(String.format(
                    "an image of %d x %d x %d needs %d values, got %d", channels, height, width,
                    (long) channels * height * width, values.length));
        }
    }

    /** Sample {@code (c, y, x)}, 0-255. */
    public int get(int c, int y, int x) {
        return values[(c * height + y) * width + x] & 0xff;
    }

    /** The image's size and colour. */
    public ImageShape shape() {
        return new ImageShape(channels, height, width);
    }

    /**
     * The same picture with {@code target} channels. Gray to RGB repeats the gray value; RGB to gray
     * is ITU-R BT.601 luma in PIL's fixed point, {@code (19595 R + 38470 G + 7471 B + 2^15) >> 16}, so
     * a gray picture stored as RGB comes back with its exact values.
     */
    public Pixels withChannels(int target) {
        if (target == channels) {
            return this;
        }
        int plane = height * width;
        if (target == 3) {
            byte[] rgb = new byte[3 * plane];
            for (int c = 0; c < 3; c++) {
                System.arraycopy(values, 0, rgb, c * plane, plane);
            }
            return new Pixels(3, height, width, rgb);
        }
        if (target != 1) {
            throw new IllegalArgumentException("an image has 1 or 3 channels, not " + target);
        }
        byte[] gray = new byte[plane];
        for (int i = 0; i < plane; i++) {
            int r = values[i] & 0xff;
            int g = values[plane + i] & 0xff;
            int b = values[2 * plane + i] & 0xff;
            gray[i] = (byte) ((19595 * r + 38470 * g + 7471 * b + (1 << 15)) >> 16);
        }
        return new Pixels(1, height, width, gray);
    }

    /**
     * The {@code cropHeight x cropWidth} window whose top-left corner is {@code (top, left)}; the window
     * may reach past the image, and what lies outside is 0 (zero padding).
     */
    public Pixels crop(int top, int left, int cropHeight, int cropWidth) {
        if (top == 0 && left == 0 && cropHeight == height && cropWidth == width) {
            return this;
        }
        byte[] out = new byte[channels * cropHeight * cropWidth];
        int fromX = Math.max(0, -left);
        int toX = Math.min(cropWidth, width - left);
        for (int c = 0; c < channels; c++) {
            for (int y = Math.max(0, -top); y < Math.min(cropHeight, height - top); y++) {
                if (toX > fromX) {
                    System.arraycopy(values, (c * height + top + y) * width + left + fromX,
                            out, (c * cropHeight + y) * cropWidth + fromX, toX - fromX);
                }
            }
        }
        return new Pixels(channels, cropHeight, cropWidth, out);
    }

    /** Mirrored left to right: column {@code x} becomes column {@code width - 1 - x}. */
    public Pixels mirrored() {
        byte[] out = new byte[values.length];
        for (int row = 0; row < channels * height; row++) {
            int offset = row * width;
            for (int x = 0; x < width; x++) {
                out[offset + x] = values[offset + width - 1 - x];
            }
        }
        return new Pixels(channels, height, width, out);
    }
}

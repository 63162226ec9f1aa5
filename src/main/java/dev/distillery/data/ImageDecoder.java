package dev.distillery.data;

import dev.distillery.error.DistilleryException;
import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Iterator;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.ImageTypeSpecifier;
import javax.imageio.stream.ImageInputStream;

/**
 * Encoded images (PNG, JPEG, GIF, BMP: what {@link ImageIO} reads) to {@link Pixels}: the one decoder
 * behind datasets of image files and Predict.
 *
 * <p>Gray images (a gray colour space without a palette) keep their exact 8-bit values, read from the
 * raster with no colour conversion; deeper gray samples are scaled to 0-255. Everything else becomes
 * RGB through the image's colour model, and alpha is dropped (PIL's {@code convert("RGB")}).
 *
 * <p>Decoding opens a reader, reads the header (size, colour), then the pixels. An encoded image from a
 * request is refused between those two steps when its header announces more pixels than the caller's
 * limit: a 20,000 x 20,000 PNG of a few hundred kilobytes would otherwise take gigabytes to decode.
 */
public final class ImageDecoder {

    static {
        ImageIO.setUseCache(false);
    }

    private static final String FORMATS = "PNG, JPEG, GIF or BMP";

    private ImageDecoder() {}

    /**
     * Decodes one encoded image of at most {@code maxPixels} pixels (width x height), a count read from
     * its header before any pixel is decoded.
     *
     * @throws DistilleryException INVALID_ARGUMENT when the bytes are empty or no readable image;
     *     RESOURCE_EXHAUSTED when the header announces more than {@code maxPixels} pixels
     */
    public static Pixels decode(byte[] encoded, long maxPixels) {
        if (encoded.length == 0) {
            throw DistilleryException.invalid("image is empty: send the bytes of a %s file", FORMATS);
        }
        return decode(encoded, "image", maxPixels);
    }

    /**
     * Reads and decodes one image file.
     *
     * @throws DistilleryException NOT_FOUND when the file is missing, INVALID_ARGUMENT when it holds no
     *     readable image
     */
    public static Pixels read(Path file) {
        return decode(bytes(file), "image " + file, Long.MAX_VALUE);
    }

    /**
     * The size and colour of an image file from its header alone, without decoding its pixels.
     *
     * @throws DistilleryException as {@link #read}
     */
    public static ImageShape header(Path file) {
        // Closing an ImageInputStream leaves the stream under it open: both are closed here.
        try (InputStream raw = Files.newInputStream(file); ImageInputStream in = ImageIO.createImageInputStream(raw)) {
            ImageReader reader = reader(in, "image " + file, -1);
            try {
                ImageTypeSpecifier type = reader.getRawImageType(0);
                int channels = type != null && gray(type.getColorModel()) ? 1 : 3;
                return new ImageShape(channels, reader.getHeight(0), reader.getWidth(0));
            } finally {
                reader.dispose();
            }
        } catch (NoSuchFileException e) {
            throw missing(file);
        } catch (IOException | RuntimeException e) {
            if (e instanceof DistilleryException known) {
                throw known;
            }
            throw DistilleryException.invalid("image %s could not be read (%s): expected a %s file", file,
                    e.getMessage(), FORMATS);
        }
    }

    /** {@code what} names the image in messages. */
    private static Pixels decode(byte[] encoded, String what, long maxPixels) {
        try (ImageInputStream in = ImageIO.createImageInputStream(new ByteArrayInputStream(encoded))) {
            ImageReader reader = reader(in, what, encoded.length);
            try {
                // Only the header is read so far: the size is known before any pixel is decoded.
                int width = reader.getWidth(0);
                int height = reader.getHeight(0);
                if ((long) width * height > maxPixels) {
                    throw new DistilleryException(DistilleryException.Kind.RESOURCE_EXHAUSTED, String.format(
                            "%s is %d x %d = %,d pixels; the server decodes at most %,d: send a smaller image",
                            what, width, height, (long) width * height, maxPixels));
                }
                return pixels(reader.read(0));
            } finally {
                reader.dispose();
            }
        } catch (IOException | RuntimeException e) {
            if (e instanceof DistilleryException known) {
                throw known;
            }
            throw DistilleryException.invalid("%s could not be decoded (%s): send a %s file", what, e.getMessage(),
                    FORMATS);
        }
    }

    private static ImageReader reader(ImageInputStream in, String what, int length) {
        Iterator<ImageReader> readers = in == null ? null : ImageIO.getImageReaders(in);
        if (readers == null || !readers.hasNext()) {
            throw DistilleryException.invalid("%s could not be decoded: %s in no format this server reads (%s)",
                    what, length >= 0 ? length + " bytes" : "a file", FORMATS);
        }
        ImageReader reader = readers.next();
        reader.setInput(in, true, true);
        return reader;
    }

    /** The samples of a decoded image, gray ones exactly. */
    static Pixels pixels(BufferedImage image) {
        int width = image.getWidth();
        int height = image.getHeight();
        int plane = width * height;
        if (gray(image.getColorModel())) {
            Raster raster = image.getRaster();
            int max = (1 << image.getColorModel().getComponentSize(0)) - 1;
            int[] samples = raster.getSamples(0, 0, width, height, 0, (int[]) null);
            byte[] values = new byte[plane];
            for (int i = 0; i < plane; i++) {
                values[i] = (byte) (max == 255 ? samples[i] : Math.round(samples[i] * 255f / max));
            }
            return new Pixels(1, height, width, values);
        }
        int[] argb = image.getRGB(0, 0, width, height, null, 0, width);
        byte[] values = new byte[3 * plane];
        for (int i = 0; i < plane; i++) {
            values[i] = (byte) (argb[i] >> 16);
            values[plane + i] = (byte) (argb[i] >> 8);
            values[2 * plane + i] = (byte) argb[i];
        }
        return new Pixels(3, height, width, values);
    }

    private static boolean gray(ColorModel model) {
        return model.getColorSpace().getType() == ColorSpace.TYPE_GRAY && !(model instanceof IndexColorModel);
    }

    private static byte[] bytes(Path file) {
        try {
            return Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw missing(file);
        } catch (IOException e) {
            throw DistilleryException.precondition("image %s cannot be read: %s", file, e.getMessage());
        }
    }

    private static DistilleryException missing(Path file) {
        return DistilleryException.notFound("image %s does not exist (was it removed after the server listed it?)",
                file);
    }
}

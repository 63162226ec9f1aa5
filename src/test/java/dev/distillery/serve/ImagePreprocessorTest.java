package dev.distillery.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.distillery.data.Normalization;
import dev.distillery.error.DistilleryException;
import dev.distillery.v1.Preprocessing;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.nio.FloatBuffer;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;

class ImagePreprocessorTest {

    private static byte[] encode(BufferedImage image, String format) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        assertTrue(ImageIO.write(image, format, out));
        return out.toByteArray();
    }

    /** Mean and std pairs, one per channel. */
    private static Normalization norm(float... meanStd) {
        float[] mean = new float[meanStd.length / 2];
        float[] std = new float[meanStd.length / 2];
        for (int c = 0; c < mean.length; c++) {
            mean[c] = meanStd[2 * c];
            std[c] = meanStd[2 * c + 1];
        }
        return new Normalization(mean, std);
    }

    @Test
    void aGrayImageAtTheInputSizeKeepsItsExactPixels() throws Exception {
        BufferedImage image = new BufferedImage(4, 3, BufferedImage.TYPE_BYTE_GRAY);
        for (int y = 0; y < 3; y++) {
            for (int x = 0; x < 4; x++) {
                image.getRaster().setSample(x, y, 0, 20 * (y * 4 + x));
            }
        }
        Preprocessing pre = Preprocessing.newBuilder().setColor("gray").addMean(0.5f).addStd(0.25f).build();
        FloatBuffer out = FloatBuffer.allocate(12);
        ImagePreprocessor.write(encode(image, "png"), pre, norm(0.5f, 0.25f), 3, 4, out);
        for (int i = 0; i < 12; i++) {
            assertEquals((20 * i / 255f - 0.5f) / 0.25f, out.get(i), 1e-6, "pixel " + i);
        }
    }

    @Test
    void colourImagesAreResizedCroppedAndNormalisedPerChannel() throws Exception {
        // 40x20, left half pure red, right half pure blue: resize the short side to 10, crop the middle 6x6.
        BufferedImage image = new BufferedImage(40, 20, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 20; y++) {
            for (int x = 0; x < 40; x++) {
                image.setRGB(x, y, x < 20 ? 0xff0000 : 0x0000ff);
            }
        }
        Preprocessing pre = Preprocessing.newBuilder().setColor("rgb").setResize(10).setCenterCrop(true)
                .addMean(0f).addMean(0f).addMean(0f).addStd(1f).addStd(1f).addStd(1f).build();
        FloatBuffer out = FloatBuffer.allocate(3 * 6 * 6);
        ImagePreprocessor.write(encode(image, "png"), pre, norm(0f, 1f, 0f, 1f, 0f, 1f), 6, 6, out);
        // Row 0: the crop spans x 7..12 of the 20x10 resized image; its left column is red, its right blue.
        assertEquals(1f, out.get(0), 0.02, "red channel, left edge");
        assertEquals(0f, out.get(2 * 36), 0.02, "blue channel, left edge");
        assertEquals(1f, out.get(2 * 36 + 5), 0.02, "blue channel, right edge");
    }

    @Test
    void anyGrayScaleImageIsScaledToTheInputSize() throws Exception {
        BufferedImage image = new BufferedImage(56, 56, BufferedImage.TYPE_BYTE_GRAY);
        FloatBuffer out = FloatBuffer.allocate(28 * 28);
        ImagePreprocessor.write(encode(image, "bmp"), Preprocessing.getDefaultInstance(), norm(0f, 1f), 28, 28, out);
        assertEquals(28 * 28, out.position());
    }

    @Test
    void bytesThatAreNoImageAreAnInvalidArgument() {
        DistilleryException e = assertThrows(DistilleryException.class, () -> ImagePreprocessor.write(
                "hello".getBytes(), Preprocessing.getDefaultInstance(), norm(0f, 1f), 28, 28, FloatBuffer.allocate(784)));
        assertEquals(DistilleryException.Kind.INVALID_ARGUMENT, e.kind());
        assertTrue(e.getMessage().contains("could not be decoded"), e.getMessage());
    }
}

package dev.distillery.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.distillery.error.DistilleryException;
import dev.distillery.v1.Preprocessing;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.nio.FloatBuffer;
import java.util.List;
import java.util.Random;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;

class ImagePipelineTest {

    private static final float[] IMAGENET_MEAN = {0.485f, 0.456f, 0.406f};
    private static final float[] IMAGENET_STD = {0.229f, 0.224f, 0.225f};

    static byte[] encode(BufferedImage image, String format) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        assertTrue(ImageIO.write(image, format, out));
        return out.toByteArray();
    }

    private static Preprocessing pre(String color, int resize, boolean crop, float[] mean, float[] std) {
        Preprocessing.Builder pre = Preprocessing.newBuilder().setColor(color).setResize(resize).setCenterCrop(crop);
        for (int c = 0; c < mean.length; c++) {
            pre.addMean(mean[c]).addStd(std[c]);
        }
        return pre.build();
    }

    private static float[] write(ImagePipeline pipeline, byte[] encoded) {
        FloatBuffer out = FloatBuffer.allocate(pipeline.imageSize());
        pipeline.write(encoded, Long.MAX_VALUE, out);
        assertEquals(pipeline.imageSize(), out.position());
        return out.array();
    }

    @Test
    void aGrayImageAtTheInputSizeKeepsItsExactPixels() throws Exception {
        BufferedImage image = new BufferedImage(4, 3, BufferedImage.TYPE_BYTE_GRAY);
        for (int y = 0; y < 3; y++) {
            for (int x = 0; x < 4; x++) {
                image.getRaster().setSample(x, y, 0, 20 * (y * 4 + x));
            }
        }
        ImagePipeline pipeline = ImagePipeline.of(pre("gray", 0, false, new float[] {0.5f}, new float[] {0.25f}), 1, 3, 4);
        float[] out = write(pipeline, encode(image, "png"));
        for (int i = 0; i < 12; i++) {
            assertEquals((20 * i / 255f - 0.5f) / 0.25f, out[i], 1e-6, "pixel " + i);
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
        ImagePipeline pipeline = ImagePipeline.of(pre("rgb", 10, true, new float[] {0, 0, 0}, new float[] {1, 1, 1}), 3, 6, 6);
        float[] out = write(pipeline, encode(image, "png"));
        // Row 0: the crop spans x 7..12 of the 20x10 resized image; its left column is red, its right blue.
        assertEquals(1f, out[0], 0.02, "red channel, left edge");
        assertEquals(0f, out[2 * 36], 0.02, "blue channel, left edge");
        assertEquals(1f, out[2 * 36 + 5], 0.02, "blue channel, right edge");
    }

    @Test
    void anyGrayScaleImageIsScaledToTheInputSize() throws Exception {
        BufferedImage image = new BufferedImage(56, 56, BufferedImage.TYPE_BYTE_GRAY);
        ImagePipeline pipeline = ImagePipeline.of(Preprocessing.getDefaultInstance(), 1, 28, 28);
        assertEquals(28 * 28, write(pipeline, encode(image, "bmp")).length);
    }

    @Test
    void bytesThatAreNoImageAreAnInvalidArgument() {
        ImagePipeline pipeline = ImagePipeline.of(Preprocessing.getDefaultInstance(), 1, 28, 28);
        DistilleryException e = assertThrows(DistilleryException.class,
                () -> pipeline.write("hello".getBytes(), Long.MAX_VALUE, FloatBuffer.allocate(784)));
        assertEquals(DistilleryException.Kind.INVALID_ARGUMENT, e.kind());
        assertTrue(e.getMessage().contains("could not be decoded"), e.getMessage());
    }

    /**
     * The seed's pipeline (RGB, shorter side to 256, center crop 224, ImageNet mean and std) on a 250 x 200
     * image whose channels are linear in x and y, so every output is known in closed form: enlarging by
     * 256/200 interpolates between pixel centres, so output (x, y) reads the ramps at
     * {@code sx = (x + 48 + 0.5) * 250/320 - 0.5}, {@code sy = (y + 16 + 0.5) * 200/256 - 0.5}
     * (the resized image is 320 x 256, the crop starts at column 48, row 16).
     */
    @Test
    void theSeedsPipelineOnAnRgbImageMatchesValuesComputedInClosedForm() throws Exception {
        BufferedImage image = new BufferedImage(250, 200, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 200; y++) {
            for (int x = 0; x < 250; x++) {
                image.setRGB(x, y, (x << 16) | (y << 8) | (255 - x));
            }
        }
        ImagePipeline seed = ImagePipeline.of(pre("rgb", 256, true, IMAGENET_MEAN, IMAGENET_STD), 3, 224, 224);
        float[] out = write(seed, encode(image, "png"));

        int plane = 224 * 224;
        for (int y = 0; y < 224; y++) {
            double sy = (y + 16 + 0.5) * 200.0 / 256 - 0.5;
            for (int x = 0; x < 224; x++) {
                double sx = (x + 48 + 0.5) * 250.0 / 320 - 0.5;
                long[] expected = {Math.round(sx), Math.round(sy), Math.round(255 - sx)};
                for (int c = 0; c < 3; c++) {
                    float value = (expected[c] / 255f - IMAGENET_MEAN[c]) / IMAGENET_STD[c];
                    assertEquals(value, out[c * plane + y * 224 + x], 1e-5, "channel " + c + " at " + x + "," + y);
                }
            }
        }
    }

    @Test
    void torchvisionSizesTheLongerSideDownAndRoundsTheCropStartHalfToEven() {
        // 7 x 5 (w x h), shorter side to 3: width floor(3 * 7 / 5) = 4; crop 2 x 2 starts at round(0.5) = 0, round(1) = 1.
        byte[] values = new byte[35];
        for (int i = 0; i < 35; i++) {
            values[i] = (byte) (i * 7);
        }
        Pixels image = new Pixels(1, 5, 7, values);
        ImagePipeline pipeline = ImagePipeline.of(pre("gray", 3, true, new float[0], new float[0]), 1, 2, 2);
        Pixels resized = BilinearResize.resize(image, 3, 4);
        assertArrayEquals(resized.crop(0, 1, 2, 2).values(), pipeline.prepare(image).values());
    }

    @Test
    void teacherAndStudentTakeTheSameImageInTheirOwnSizeAndColour() {
        // A 3 x 32 x 32 orange image: the teacher takes it as it is, the student as 1 x 28 x 28 gray.
        byte[] values = new byte[3 * 32 * 32];
        for (int i = 0; i < 32 * 32; i++) {
            values[i] = (byte) 200;
            values[1024 + i] = (byte) 100;
            values[2048 + i] = (byte) 50;
        }
        Pixels orange = new Pixels(3, 32, 32, values);
        ImagePipeline teacher = ImagePipeline.of(Preprocessing.getDefaultInstance(), 3, 32, 32);
        ImagePipeline student = ImagePipeline.of(Preprocessing.newBuilder().setColor("gray").build(), 1, 28, 28);

        assertArrayEquals(values, teacher.prepare(orange).values());
        Pixels gray = student.prepare(orange);
        assertEquals(new ImageShape(1, 28, 28), gray.shape());
        int luma = (int) Math.round(0.299 * 200 + 0.587 * 100 + 0.114 * 50);
        for (byte b : gray.values()) {
            assertEquals(luma, b & 0xff);
        }
        // And a gray image taught by an RGB teacher: the gray value in every channel.
        Pixels back = teacher.prepare(gray);
        assertEquals(new ImageShape(3, 32, 32), back.shape());
        for (byte b : back.values()) {
            assertEquals(luma, b & 0xff);
        }
    }

    @Test
    void theStatedPreprocessingRebuildsTheSamePipeline() {
        Random random = new Random(5);
        byte[] values = new byte[3 * 40 * 30];
        random.nextBytes(values);
        Pixels image = new Pixels(3, 40, 30, values);
        ImagePipeline original = ImagePipeline.of(pre("rgb", 20, true, IMAGENET_MEAN, IMAGENET_STD), 3, 16, 16);
        ImagePipeline restated = ImagePipeline.of(original.preprocessing(), 3, 16, 16);

        float[] a = new float[original.imageSize()];
        float[] b = new float[original.imageSize()];
        original.normalize(original.prepare(image), a, 0);
        restated.normalize(restated.prepare(image), b, 0);
        assertArrayEquals(a, b);
    }

    @Test
    void preprocessingThatDoesNotFitTheInputIsRejectedByField() {
        assertInvalid("preprocessing.color is 'rgb' but the input has 1 channel(s)",
                () -> ImagePipeline.of(Preprocessing.newBuilder().setColor("rgb").build(), 1, 8, 8));
        assertInvalid("preprocessing.color must be 'gray' or 'rgb', got 'cmyk'",
                () -> ImagePipeline.of(Preprocessing.newBuilder().setColor("cmyk").build(), 1, 8, 8));
        assertInvalid("preprocessing.mean has 2 values",
                () -> ImagePipeline.of(pre("rgb", 0, false, new float[] {0, 0}, new float[] {1, 1}), 3, 8, 8));
        assertInvalid("std > 0",
                () -> ImagePipeline.of(pre("gray", 0, false, new float[] {0}, new float[] {0}), 1, 8, 8));
    }

    @Test
    void preparingAWholeSetInMemoryKeepsAnUnchangedSetAsItIs() {
        ImageSet set = new ImageSet(2, 1, 2, 2, new byte[] {1, 2, 3, 4, 5, 6, 7, 8}, new int[] {0, -1});
        ImagePipeline same = ImagePipeline.of(Preprocessing.getDefaultInstance(), 1, 2, 2);
        ImagePipeline bigger = ImagePipeline.of(Preprocessing.getDefaultInstance(), 3, 4, 4);

        assertTrue(same.prepareAll(set) == set);
        ImageSet prepared = bigger.prepareAll(set);
        assertEquals(List.of(2, 3, 4, 4), List.of(prepared.count(), prepared.channels(), prepared.height(), prepared.width()));
        assertArrayEquals(new int[] {0, -1}, prepared.labels());
        assertArrayEquals(bigger.prepare(set.image(1)).values(), prepared.image(1).values());
    }

    private static void assertInvalid(String part, Runnable action) {
        DistilleryException e = assertThrows(DistilleryException.class, action::run);
        assertEquals(DistilleryException.Kind.INVALID_ARGUMENT, e.kind());
        assertTrue(e.getMessage().contains(part), e.getMessage());
    }
}

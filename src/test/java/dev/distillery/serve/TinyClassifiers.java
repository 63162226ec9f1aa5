package dev.distillery.serve;

import ai.onnx.proto.ModelProto;
import ai.onnx.proto.TensorProto;
import dev.distillery.store.ModelStore;
import dev.distillery.v1.ModelInfo;
import dev.distillery.v1.Preprocessing;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import javax.imageio.ImageIO;

/**
 * A store model small enough to check by hand: gray 2 x 2 images, three classes, logits = scale * W x with
 * {@link OnnxModels#classifier}'s seeded weights W (3 x 4) and no bias. Versions with different scales tell
 * apart which version answered.
 */
public final class TinyClassifiers {

    public static final List<String> LABELS = List.of("T-shirt/top", "Trouser", "Pullover");
    public static final int PIXELS = 4;

    private TinyClassifiers() {}

    /** Adds the next version of {@code name}: the classifier with its logits multiplied by {@code scale} (1 or 2). */
    public static ModelInfo add(ModelStore store, String name, int scale) {
        OnnxModels model = OnnxModels.classifier(1, 2, 2, LABELS.size());
        if (scale == 2) {
            model.rename("scores", "linear").node("Add", List.of("linear", "linear"), "scores");
        } else if (scale != 1) {
            throw new IllegalArgumentException("scale 1 or 2, got " + scale);
        }
        ModelInfo card = ModelInfo.newBuilder()
                .addAllLabels(LABELS)
                .addInputShape(1).addInputShape(2).addInputShape(2)
                .setPreprocessing(Preprocessing.newBuilder().setColor("gray").addMean(0f).addStd(1f))
                .build();
        return store.add(name, model.bytes(), card);
    }

    /** W, row-major (classes x pixels), read back from the ONNX file. */
    public static float[] weights() {
        try {
            ModelProto model = ModelProto.parseFrom(OnnxModels.classifier(1, 2, 2, LABELS.size()).bytes());
            TensorProto w = model.getGraph().getInitializerList().stream()
                    .filter(t -> t.getName().equals("W")).findFirst().orElseThrow();
            float[] out = new float[w.getFloatDataCount()];
            for (int i = 0; i < out.length; i++) {
                out[i] = w.getFloatData(i);
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** scale * W x for one image of 4 pixels, computed here in double precision. */
    public static float[] logits(float[] image, int scale) {
        float[] w = weights();
        float[] out = new float[LABELS.size()];
        for (int c = 0; c < out.length; c++) {
            double sum = 0;
            for (int p = 0; p < PIXELS; p++) {
                sum += (double) w[c * PIXELS + p] * image[p];
            }
            out[c] = (float) (scale * sum);
        }
        return out;
    }

    /** A 2 x 2 gray PNG with these pixel values (0-255), row by row. */
    public static byte[] png(int... pixels) {
        BufferedImage image = new BufferedImage(2, 2, BufferedImage.TYPE_BYTE_GRAY);
        for (int i = 0; i < PIXELS; i++) {
            image.getRaster().setSample(i % 2, i / 2, 0, pixels[i]);
        }
        ByteArrayOutputStream png = new ByteArrayOutputStream();
        try {
            ImageIO.write(image, "png", png);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return png.toByteArray();
    }
}

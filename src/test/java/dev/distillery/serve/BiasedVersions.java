package dev.distillery.serve;

import ai.onnx.proto.ModelProto;
import ai.onnx.proto.TensorProto;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import dev.distillery.store.ModelStore;
import dev.distillery.v1.ModelInfo;
import dev.distillery.v1.ModelRef;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;

/**
 * Versions of one small classifier (input 1x2x2, 3 classes) that answer apart: the same weights with a
 * different bias added to every class, so an answer names the bias of the model that computed it, and
 * whether the card it came with is that model's. Also what another process does to a store: replace a
 * version's files in place.
 */
final class BiasedVersions {

    static final long[] SHAPE = {1, 2, 2};
    static final float[] INPUT = {0.5f, -1f, 2f, 0.25f};
    static final int CLASSES = 3;
    /** Without a bias: W·INPUT of the weights every version shares. */
    private static final float[] UNBIASED = unbiased();

    private BiasedVersions() {}

    static byte[] onnx(float bias) {
        return OnnxModels.classifier(1, 2, 2, CLASSES).bias(bias, bias, bias).bytes();
    }

    /** The card a caller hands to {@link ModelStore#add}: the store fills in name, version and sha256. */
    static ModelInfo card() {
        return ModelInfo.newBuilder().addLabels("a").addLabels("b").addLabels("c")
                .addInputShape(1).addInputShape(2).addInputShape(2).build();
    }

    /** What the version with {@code bias} answers for {@link #INPUT}. */
    static float[] logits(float bias) {
        float[] logits = UNBIASED.clone();
        for (int i = 0; i < logits.length; i++) {
            logits[i] += bias;
        }
        return logits;
    }

    static ModelInput tensor() {
        return new ModelInput.Tensor(SHAPE, INPUT);
    }

    static ModelRef ref(String name, long version) {
        return ModelRef.newBuilder().setName(name).setVersion(version).build();
    }

    static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Replaces a stored version the way another process does it: a new model.onnx renamed over the old
     * one, then a model.json recording {@code cardSha256} renamed over its card last. Between the two
     * renames the version's files do not match; {@code between} runs there.
     */
    static void replace(ModelStore store, String name, long version, byte[] onnx, String cardSha256,
            Runnable between) throws IOException {
        ModelInfo card = store.get(ref(name, version)).toBuilder().clearVersions().setSha256(cardSha256).build();
        renameOver(store.modelFile(name, version), onnx);
        between.run();
        renameOver(store.cardFile(name, version), JsonFormat.printer().preservingProtoFieldNames().print(card)
                .getBytes(StandardCharsets.UTF_8));
    }

    private static void renameOver(Path target, byte[] content) throws IOException {
        Path temp = target.resolveSibling(".incoming-" + target.getFileName());
        Files.write(temp, content);
        Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    private static float[] unbiased() {
        try {
            ModelProto model = ModelProto.parseFrom(OnnxModels.classifier(1, 2, 2, CLASSES).bytes());
            TensorProto weights = model.getGraph().getInitializerList().stream()
                    .filter(t -> t.getName().equals("W")).findFirst().orElseThrow();
            List<Float> w = weights.getFloatDataList();
            float[] out = new float[CLASSES];
            for (int c = 0; c < CLASSES; c++) {
                for (int i = 0; i < INPUT.length; i++) {
                    out[c] += w.get(c * INPUT.length + i) * INPUT[i];
                }
            }
            return out;
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalStateException(e);
        }
    }
}

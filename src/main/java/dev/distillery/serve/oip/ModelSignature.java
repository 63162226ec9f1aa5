package dev.distillery.serve.oip;

import dev.distillery.data.ImagePipeline;
import dev.distillery.inference.ModelMetadataResponse;
import dev.distillery.inference.ModelMetadataResponse.TensorMetadata;
import dev.distillery.serve.LoadedModel;
import dev.distillery.v1.ModelInfo;

/**
 * The tensors every store model has under the Open Inference Protocol, whatever its ONNX file calls them.
 * A request sends one of the two inputs:
 * <ul>
 *   <li>{@value #INPUT}: FP32 {@code [batch, channels, height, width]}, inputs already preprocessed as the
 *       model's model.json says (what Predict's tensor input takes, one batch);
 *   <li>{@value #IMAGE}: BYTES {@code [batch]}, encoded images (PNG, JPEG, GIF, BMP) that the server
 *       preprocesses as model.json says.
 * </ul>
 * and gets back either or both outputs, FP32 {@code [batch, classes]}, in label order:
 * <ul>
 *   <li>{@value #LOGITS}: the model's raw scores;
 *   <li>{@value #PROBABILITIES}: their softmax.
 * </ul>
 */
public final class ModelSignature {

    public static final String INPUT = "input";
    public static final String IMAGE = "image";
    public static final String LOGITS = "logits";
    public static final String PROBABILITIES = "probabilities";
    /** The output parameter of the classification extension: how many top classes to return. */
    public static final String CLASSIFICATION = "classification";

    public static final String FP32 = "FP32";
    public static final String BYTES = "BYTES";
    /** Triton's platform name for a model served by ONNX Runtime. */
    public static final String PLATFORM = "onnxruntime_onnx";
    /** A dimension of variable size, as the protocol writes it. */
    private static final long ANY = -1;

    private ModelSignature() {}

    static ModelMetadataResponse metadata(ModelInfo info) {
        ImagePipeline input = LoadedModel.pipeline(info);
        long classes = info.getLabelsCount();
        ModelMetadataResponse.Builder metadata = ModelMetadataResponse.newBuilder()
                .setName(info.getName())
                .setPlatform(PLATFORM)
                .addInputs(tensor(INPUT, FP32, ANY, input.channels(), input.height(), input.width()))
                .addInputs(tensor(IMAGE, BYTES, ANY))
                .addOutputs(tensor(LOGITS, FP32, ANY, classes))
                .addOutputs(tensor(PROBABILITIES, FP32, ANY, classes));
        info.getVersionsList().forEach(version -> metadata.addVersions(Long.toString(version)));
        return metadata.build();
    }

    private static TensorMetadata tensor(String name, String datatype, long... shape) {
        TensorMetadata.Builder tensor = TensorMetadata.newBuilder().setName(name).setDatatype(datatype);
        for (long dim : shape) {
            tensor.addShape(dim);
        }
        return tensor.build();
    }
}

package dev.distillery.cli;

import dev.distillery.error.DistilleryException;
import dev.distillery.v1.ModelInfo;
import dev.distillery.v1.ModelsGrpc;
import dev.distillery.v1.Preprocessing;
import dev.distillery.v1.UploadHeader;
import io.grpc.ManagedChannel;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code distillery models upload FILE --name N --labels FILE ...}: adds an ONNX model made elsewhere
 * (a teacher from any framework) as the next version of a model. The server checks the file; the
 * options only carry what it cannot read from the file itself.
 */
@Command(name = "upload", sortOptions = false,
        description = "Upload an ONNX classifier (e.g. a teacher exported from PyTorch) as the next version of a model.")
final class ModelsUpload extends ServerCommand {

    @Parameters(paramLabel = "FILE", description = "The ONNX file: one float NCHW input, one [batch, classes] output.")
    Path file;

    @Option(names = "--name", required = true, paramLabel = "NAME", description = "Store name; the upload becomes its next version.")
    String name;

    @Option(names = "--labels", required = true, paramLabel = "FILE",
            description = "Class names, one per line, in the order of the model's outputs.")
    Path labels;

    @Option(names = "--color", paramLabel = "gray|rgb", description = "Colour of the input (default: from its channel count).")
    String color;

    @Option(names = "--resize", paramLabel = "PIXELS", description = "Resize the shorter side to this first (default: straight to the input size).")
    Integer resize;

    @Option(names = "--center-crop", description = "Center-crop to the input size after resizing.")
    boolean centerCrop;

    @Option(names = "--mean", split = ",", paramLabel = "M", description = "Per-channel mean of pixels in [0, 1], e.g. 0.485,0.456,0.406.")
    List<Float> mean = new ArrayList<>();

    @Option(names = "--std", split = ",", paramLabel = "S", description = "Per-channel standard deviation, e.g. 0.229,0.224,0.225.")
    List<Float> std = new ArrayList<>();

    @Option(names = "--input-shape", split = ",", paramLabel = "N",
            description = "Channels,height,width; only when the ONNX input leaves them symbolic.")
    List<Long> inputShape = new ArrayList<>();

    @Option(names = "--metric", paramLabel = "NAME=VALUE",
            description = "A figure to keep in the card, e.g. test_accuracy=0.93; repeatable.")
    Map<String, Double> metrics = new LinkedHashMap<>();

    @Override
    int run(ManagedChannel channel) throws Exception {
        UploadHeader.Builder header = UploadHeader.newBuilder().setName(name).addAllLabels(readLabels(labels))
                .addAllInputShape(inputShape).putAllMetrics(metrics);
        if (color != null || resize != null || centerCrop || !mean.isEmpty() || !std.isEmpty()) {
            Preprocessing.Builder preprocessing = Preprocessing.newBuilder().setCenterCrop(centerCrop)
                    .addAllMean(mean).addAllStd(std);
            if (color != null) {
                preprocessing.setColor(color);
            }
            if (resize != null) {
                preprocessing.setResize(resize);
            }
            header.setPreprocessing(preprocessing);
        }
        ModelInfo card;
        try (InputStream onnx = Files.newInputStream(file)) {
            FileUpload upload = new FileUpload(header.build(), onnx);
            ModelsGrpc.newStub(channel).uploadModel(upload);
            card = upload.result().get();
        } catch (ExecutionException e) {
            throw e.getCause() instanceof Exception cause ? cause : e;
        }
        out().printf("uploaded %s version %d: %,d parameters, input %s, %d classes, sha256 %s%n", card.getName(),
                card.getVersion(), card.getParameters(), ModelCard.shape(card.getInputShapeList()),
                card.getLabelsCount(), card.getSha256());
        return 0;
    }

    /** One class name per line; blank lines at the end are ignored, a blank line before a label is an error. */
    static List<String> readLabels(Path file) throws IOException {
        List<String> lines = new ArrayList<>(Files.readAllLines(file, StandardCharsets.UTF_8));
        while (!lines.isEmpty() && lines.get(lines.size() - 1).isBlank()) {
            lines.remove(lines.size() - 1);
        }
        List<String> labels = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            String label = lines.get(i).strip();
            if (label.isEmpty()) {
                throw DistilleryException.invalid("%s: line %d is empty; write one class name per line, in the order "
                        + "of the model's outputs", file, i + 1);
            }
            labels.add(label);
        }
        if (labels.isEmpty()) {
            throw DistilleryException.invalid("%s has no labels; write one class name per line", file);
        }
        return labels;
    }
}

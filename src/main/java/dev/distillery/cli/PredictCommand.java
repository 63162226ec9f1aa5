package dev.distillery.cli;

import com.google.protobuf.ByteString;
import dev.distillery.v1.ClassScore;
import dev.distillery.v1.Input;
import dev.distillery.v1.ModelRef;
import dev.distillery.v1.PredictRequest;
import dev.distillery.v1.PredictResponse;
import dev.distillery.v1.PredictionGrpc;
import io.grpc.ManagedChannel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code distillery predict MODEL IMAGE... --top 3}: the most probable classes of each image. */
@Command(name = "predict",
        description = "Classify images (PNG, JPEG, GIF, BMP), sent as one batch; prints the top classes of each.")
final class PredictCommand extends ServerCommand {

    @Parameters(index = "0", paramLabel = ModelRefConverter.LABEL, converter = ModelRefConverter.class,
            description = "The model; without a version, its newest.")
    ModelRef model;

    @Parameters(index = "1..*", arity = "1..*", paramLabel = "IMAGE", description = "Image files.")
    List<Path> images;

    @Option(names = "--top", defaultValue = "3", paramLabel = "K", description = "Classes per image (default: ${DEFAULT-VALUE}).")
    int top;

    @Override
    int run(ManagedChannel channel) throws IOException {
        PredictRequest.Builder request = PredictRequest.newBuilder().setModel(model).setTopK(top);
        for (Path image : images) {
            request.addInputs(Input.newBuilder().setImage(ByteString.copyFrom(Files.readAllBytes(image))));
        }
        PredictResponse response = PredictionGrpc.newBlockingStub(channel).predict(request.build());
        out().printf("%s/%d%n", response.getModel().getName(), response.getModel().getVersion());
        int width = images.stream().mapToInt(image -> image.toString().length()).max().orElse(0);
        for (int i = 0; i < response.getClassificationsCount(); i++) {
            StringBuilder line = new StringBuilder(String.format("  %-" + width + "s", images.get(i)));
            for (ClassScore score : response.getClassifications(i).getTopList()) {
                line.append(String.format("  %s %.1f %%", score.getLabel(), 100 * score.getProbability()));
            }
            out().println(line);
        }
        return 0;
    }
}

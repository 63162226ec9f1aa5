package dev.distillery.cli;

import dev.distillery.error.DistilleryException;
import dev.distillery.v1.DownloadModelRequest;
import dev.distillery.v1.DownloadModelResponse;
import dev.distillery.v1.ModelInfo;
import dev.distillery.v1.ModelRef;
import dev.distillery.v1.ModelsGrpc;
import io.grpc.ManagedChannel;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Iterator;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code distillery models download NAME[:VERSION] [-o DIR]}: model.onnx and model.json, as the store
 * keeps them. The file is checked against the card's SHA-256 before it takes its name.
 */
@Command(name = "download",
        description = "Download a model: model.onnx and its card model.json.")
final class ModelsDownload extends ServerCommand {

    @Parameters(paramLabel = ModelRefConverter.LABEL, converter = ModelRefConverter.class,
            description = "The model; without a version, its newest.")
    ModelRef model;

    @Option(names = {"-o", "--output"}, paramLabel = "DIR",
            description = "Where to write the two files (default: NAME/VERSION under the current folder, as in the store).")
    Path output;

    @Override
    int run(ManagedChannel channel) throws IOException {
        Iterator<DownloadModelResponse> parts = ModelsGrpc.newBlockingStub(channel)
                .downloadModel(DownloadModelRequest.newBuilder().setModel(model).build());
        DownloadModelResponse first = parts.hasNext() ? parts.next() : DownloadModelResponse.getDefaultInstance();
        if (!first.hasInfo()) {
            throw DistilleryException.precondition("the server sent no model card before the file of %s",
                    ModelRefConverter.format(model));
        }
        ModelInfo card = first.getInfo();
        Path folder = output != null ? output : Path.of(card.getName(), String.valueOf(card.getVersion()));
        Files.createDirectories(folder);
        Path onnx = folder.resolve("model.onnx");
        Path partial = folder.resolve("model.onnx.part");
        long bytes = 0;
        MessageDigest sha256 = sha256();
        try (OutputStream file = new DigestOutputStream(Files.newOutputStream(partial), sha256)) {
            while (parts.hasNext()) {
                DownloadModelResponse part = parts.next();
                part.getChunk().writeTo(file);
                bytes += part.getChunk().size();
            }
        } catch (RuntimeException | IOException e) {
            Files.deleteIfExists(partial);
            throw e;
        }
        String received = HexFormat.of().formatHex(sha256.digest());
        if (!card.getSha256().isEmpty() && !card.getSha256().equalsIgnoreCase(received)) {
            Files.deleteIfExists(partial);
            throw DistilleryException.precondition("model.onnx of %s/%d arrived with SHA-256 %s, but its card says %s; "
                    + "nothing was written, try again", card.getName(), card.getVersion(), received, card.getSha256());
        }
        Files.move(partial, onnx, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        Path json = folder.resolve("model.json");
        // As the store writes it: the list of versions is the store's state, not part of the card.
        Files.writeString(json, ModelCard.json(card.toBuilder().clearVersions().build()) + "\n", StandardCharsets.UTF_8);
        out().printf("downloaded %s version %d: %s (%,d bytes), %s%n", card.getName(), card.getVersion(), onnx, bytes, json);
        return 0;
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            // Every Java platform must provide SHA-256.
            throw new IllegalStateException(e);
        }
    }
}

package dev.distillery.store;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import com.google.protobuf.util.Timestamps;
import dev.distillery.error.DistilleryException;
import dev.distillery.v1.ModelInfo;
import dev.distillery.v1.ModelRef;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.UUID;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * A Triton-style model repository on disk: {@code <root>/<name>/<version>/model.onnx} beside
 * {@code model.json}, the JSON form of {@link ModelInfo} (snake_case field names) so that a person,
 * a script or another server can read it without this code. Versions are positive integers. A new
 * version is written to a temporary folder and renamed into place, so a reader never sees half a
 * model.
 */
public final class ModelStore {

    public static final String MODEL_FILE = "model.onnx";
    public static final String CARD_FILE = "model.json";
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");
    private static final String TEMP_PREFIX = ".tmp-";

    private final Path root;

    public ModelStore(Path root) {
        this.root = root.toAbsolutePath().normalize();
        try {
            Files.createDirectories(this.root);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the model store at " + this.root, e);
        }
    }

    public Path root() {
        return root;
    }

    /** True when the root can be listed and written: the readiness check. */
    public boolean healthy() {
        return Files.isDirectory(root) && Files.isReadable(root) && Files.isWritable(root);
    }

    /** Rejects names that are not safe as a single folder name. */
    public static String checkName(String name) {
        if (name == null || !NAME.matcher(name).matches()) {
            throw DistilleryException.invalid(
                    "model name '%s' is not allowed: use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit",
                    name);
        }
        return name;
    }

    /** The newest version of every model, ordered by name. */
    public List<ModelInfo> list() {
        List<ModelInfo> models = new ArrayList<>();
        for (String name : modelNames()) {
            List<Long> versions = versions(name);
            if (!versions.isEmpty()) {
                models.add(read(name, versions.get(versions.size() - 1), versions));
            }
        }
        return models;
    }

    /** Resolves version 0 to the newest; throws NOT_FOUND for an unknown model or version. */
    public ModelInfo get(ModelRef ref) {
        String name = ref.getName();
        if (name.isEmpty()) {
            throw DistilleryException.invalid("model name is empty: name a model from ListModels");
        }
        checkName(name);
        long version = ref.getVersion();
        if (version < 0) {
            throw DistilleryException.invalid("model version must be >= 0 (0 = newest), got %d", version);
        }
        List<Long> versions = versions(name);
        if (versions.isEmpty()) {
            throw DistilleryException.notFound("no model named '%s' in the store; known models: %s", name, modelNames());
        }
        long chosen = version == 0 ? versions.get(versions.size() - 1) : version;
        if (!versions.contains(chosen)) {
            throw DistilleryException.notFound("model '%s' has no version %d; versions: %s", name, version, versions);
        }
        return read(name, chosen, versions);
    }

    public Path modelFile(String name, long version) {
        return versionDir(name, version).resolve(MODEL_FILE);
    }

    /**
     * Adds the next version of a model. The card's name, version, sha256 and created time are set
     * here; everything else is the caller's.
     */
    public synchronized ModelInfo add(String name, byte[] onnx, ModelInfo card) {
        checkName(name);
        // Past every numbered folder, complete or not, so a half-written version is never overwritten.
        long version = versionFolders(name).stream().mapToLong(Long::longValue).max().orElse(0L) + 1;
        ModelInfo stored = card.toBuilder()
                .setName(name)
                .setVersion(version)
                .clearVersions()
                .setSha256(sha256(onnx))
                .setCreated(Timestamps.fromMillis(System.currentTimeMillis()))
                .build();
        Path temp = root.resolve(TEMP_PREFIX + UUID.randomUUID());
        try {
            Files.createDirectories(temp);
            Files.write(temp.resolve(MODEL_FILE), onnx);
            Files.writeString(temp.resolve(CARD_FILE), toJson(stored), StandardCharsets.UTF_8);
            Path target = versionDir(name, version);
            Files.createDirectories(target.getParent());
            move(temp, target);
        } catch (IOException e) {
            deleteQuietly(temp);
            throw new UncheckedIOException("cannot write model " + name + " version " + version, e);
        }
        return stored.toBuilder().addAllVersions(versions(name)).build();
    }

    private static void move(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(from, to);
        }
    }

    private ModelInfo read(String name, long version, List<Long> versions) {
        Path card = versionDir(name, version).resolve(CARD_FILE);
        try {
            ModelInfo.Builder builder = ModelInfo.newBuilder();
            JsonFormat.parser().ignoringUnknownFields().merge(Files.readString(card, StandardCharsets.UTF_8), builder);
            return builder.setName(name).setVersion(version).clearVersions().addAllVersions(versions).build();
        } catch (InvalidProtocolBufferException e) {
            throw DistilleryException.precondition("model card %s is not valid: %s", card, e.getMessage());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + card, e);
        }
    }

    private List<String> modelNames() {
        try (Stream<Path> entries = Files.list(root)) {
            return entries.filter(Files::isDirectory)
                    .map(p -> p.getFileName().toString())
                    .filter(n -> !n.startsWith(TEMP_PREFIX) && NAME.matcher(n).matches())
                    .sorted()
                    .toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list the model store at " + root, e);
        }
    }

    /** Versions that hold both files, ascending. */
    List<Long> versions(String name) {
        return versionFolders(name).stream()
                .filter(v -> Files.isRegularFile(versionDir(name, v).resolve(CARD_FILE))
                        && Files.isRegularFile(versionDir(name, v).resolve(MODEL_FILE)))
                .sorted(Comparator.naturalOrder())
                .toList();
    }

    private List<Long> versionFolders(String name) {
        Path dir = root.resolve(name);
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> entries = Files.list(dir)) {
            return entries.map(p -> p.getFileName().toString())
                    .filter(n -> n.matches("[1-9][0-9]{0,17}"))
                    .map(Long::parseLong)
                    .toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list versions of " + name, e);
        }
    }

    private Path versionDir(String name, long version) {
        return root.resolve(name).resolve(Long.toString(version));
    }

    static String toJson(ModelInfo card) throws InvalidProtocolBufferException {
        return JsonFormat.printer().preservingProtoFieldNames().print(card.toBuilder().clearVersions()) + "\n";
    }

    static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JRE", e);
        }
    }

    private static void deleteQuietly(Path dir) {
        try (Stream<Path> walk = Files.walk(dir)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // Best effort: a leftover .tmp- folder is skipped by every listing.
        }
    }
}

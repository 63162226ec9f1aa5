package dev.distillery.store;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import com.google.protobuf.util.Timestamps;
import dev.distillery.error.DistilleryException;
import dev.distillery.v1.ModelInfo;
import dev.distillery.v1.ModelRef;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
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
 * version is written to a temporary folder and renamed into place, and a deleted one is renamed out
 * of place before its files go, so a reader never sees half a model. A version number is never given
 * out twice: after a delete, {@code <root>/<name>/.last-version} remembers the highest one, so a
 * lineage that names a version can only mean the model that had it.
 *
 * <p>model.json is the commit marker: a version counts once both files are there, and its card records the
 * sha256 of its model.onnx, which {@link #readModel} checks before a server loads it. Another process (a
 * replica, a training worker, a person) adds a version the same way, a folder filled elsewhere and renamed
 * into place, and replaces one by renaming a new model.onnx over the old and then a new model.json last.
 */
public final class ModelStore {

    public static final String MODEL_FILE = "model.onnx";
    public static final String CARD_FILE = "model.json";
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");
    private static final String TEMP_PREFIX = ".tmp-";
    private static final String LAST_VERSION_FILE = ".last-version";
    private static final int HASH_BUFFER = 1 << 20;

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
        List<Long> versions = existingVersions(ref);
        return read(ref.getName(), resolve(ref, versions), versions);
    }

    public Path modelFile(String name, long version) {
        return versionDir(name, version).resolve(MODEL_FILE);
    }

    public Path cardFile(String name, long version) {
        return versionDir(name, version).resolve(CARD_FILE);
    }

    /**
     * The bytes of a version's model.onnx, checked against the sha256 its model.json records: what a server
     * may load. Read once, so that what is checked is what is loaded, even if the file is replaced meanwhile.
     *
     * @throws DistilleryException NOT_FOUND when the version was deleted; FAILED_PRECONDITION when the card
     *     records no sha256 or the file does not match it
     */
    public byte[] readModel(ModelInfo card) {
        String name = card.getName();
        long version = card.getVersion();
        byte[] onnx;
        try {
            onnx = Files.readAllBytes(modelFile(name, version));
        } catch (NoSuchFileException e) {
            throw DistilleryException.notFound("model %s/%d has been deleted; ListModels shows what is left", name, version);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + modelFile(name, version), e);
        }
        if (card.getSha256().isEmpty()) {
            throw DistilleryException.precondition("model %s/%d: its model.json records no sha256 of model.onnx, so "
                    + "the file cannot be checked; add \"sha256\" (hex, as sha256sum prints it) to model.json", name, version);
        }
        String found = HexFormat.of().formatHex(newDigest().digest(onnx));
        if (!found.equalsIgnoreCase(card.getSha256())) {
            throw DistilleryException.precondition("model %s/%d: model.onnx does not match the sha256 its model.json "
                    + "records (file %s, model.json %s): the file was changed or damaged after the card was written; "
                    + "it is not served until they match", name, version, found, card.getSha256());
        }
        return onnx;
    }

    /** Opens a version's model.onnx for reading; NOT_FOUND when the version was deleted meanwhile. */
    public FileChannel openModelFile(String name, long version) {
        try {
            return FileChannel.open(modelFile(name, version));
        } catch (NoSuchFileException e) {
            throw DistilleryException.notFound("model %s/%d has been deleted; ListModels shows what is left", name, version);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open " + modelFile(name, version), e);
        }
    }

    /**
     * A new empty file inside the store for an upload to be written to. It is on the store's file
     * system, so {@link #add(String, Path, ModelInfo)} renames it instead of copying it; listings skip
     * it; whoever asked for it deletes it if it never reaches {@code add}.
     */
    public Path newStagingFile() {
        try {
            return Files.createFile(root.resolve(TEMP_PREFIX + UUID.randomUUID() + ".onnx"));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a staging file in the model store at " + root, e);
        }
    }

    /** Adds the next version of a model from bytes in memory; see {@link #add(String, Path, ModelInfo)}. */
    public ModelInfo add(String name, byte[] onnx, ModelInfo card) {
        checkName(name);
        Path staged = newStagingFile();
        try {
            Files.write(staged, onnx);
            return add(name, staged, card);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write model " + name + " to " + staged, e);
        } finally {
            deleteQuietly(staged);
        }
    }

    /**
     * Adds the next version of a model, taking {@code onnxFile}: it is moved into the new version, or
     * deleted if adding fails. The card's name, version, sha256 and created time are set here;
     * everything else is the caller's.
     */
    public ModelInfo add(String name, Path onnxFile, ModelInfo card) {
        Path temp = root.resolve(TEMP_PREFIX + UUID.randomUUID());
        try {
            checkName(name);
            String sha256 = sha256(onnxFile);
            Files.createDirectories(temp);
            move(onnxFile, temp.resolve(MODEL_FILE));
            ModelInfo stored;
            synchronized (this) {
                long version = nextVersion(name);
                stored = card.toBuilder()
                        .setName(name)
                        .setVersion(version)
                        .clearVersions()
                        .setSha256(sha256)
                        .setCreated(Timestamps.fromMillis(System.currentTimeMillis()))
                        .build();
                Files.writeString(temp.resolve(CARD_FILE), toJson(stored), StandardCharsets.UTF_8);
                Path target = versionDir(name, version);
                Files.createDirectories(target.getParent());
                move(temp, target);
            }
            return stored.toBuilder().addAllVersions(versions(name)).build();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot add a version of model " + name, e);
        } finally {
            deleteQuietly(temp);
            deleteQuietly(onnxFile);
        }
    }

    /**
     * Deletes one version, or every version when the reference's version is 0, and returns the
     * versions deleted, ascending. Each version folder is renamed out of the model's folder first and
     * its files removed after, so a reader sees a version whole or not at all.
     */
    public List<Long> delete(ModelRef ref) {
        List<Path> removed = new ArrayList<>();
        List<Long> deleted;
        synchronized (this) {
            List<Long> versions = existingVersions(ref);
            deleted = ref.getVersion() == 0 ? versions : List.of(resolve(ref, versions));
            rememberLastVersion(ref.getName());
            try {
                for (long version : deleted) {
                    Path away = root.resolve(TEMP_PREFIX + UUID.randomUUID());
                    move(versionDir(ref.getName(), version), away);
                    removed.add(away);
                }
            } catch (IOException e) {
                throw new UncheckedIOException("cannot delete model " + ref.getName() + " versions " + deleted
                        + " (versions moved away so far: " + removed.size() + ")", e);
            } finally {
                removed.forEach(ModelStore::deleteQuietly);
            }
        }
        return deleted;
    }

    /** The reference's model's versions, ascending; throws for a bad reference or a model with none. */
    private List<Long> existingVersions(ModelRef ref) {
        String name = ref.getName();
        if (name.isEmpty()) {
            throw DistilleryException.invalid("model name is empty: name a model from ListModels");
        }
        checkName(name);
        if (ref.getVersion() < 0) {
            throw DistilleryException.invalid("model version must be >= 0 (0 = newest), got %d", ref.getVersion());
        }
        List<Long> versions = versions(name);
        if (versions.isEmpty()) {
            List<String> known = modelNames().stream().filter(n -> !versions(n).isEmpty()).toList();
            throw DistilleryException.notFound("no model named '%s' in the store; known models: %s", name, known);
        }
        return versions;
    }

    /** The version a reference names among {@code versions} (0 = the newest); NOT_FOUND if absent. */
    private static long resolve(ModelRef ref, List<Long> versions) {
        long chosen = ref.getVersion() == 0 ? versions.get(versions.size() - 1) : ref.getVersion();
        if (!versions.contains(chosen)) {
            throw DistilleryException.notFound("model '%s' has no version %d; versions: %s",
                    ref.getName(), ref.getVersion(), versions);
        }
        return chosen;
    }

    /**
     * One past every number this model has used: every numbered folder, complete or not (so a
     * half-written version is never overwritten), and every deleted version.
     */
    private long nextVersion(String name) {
        long highest = versionFolders(name).stream().mapToLong(Long::longValue).max().orElse(0L);
        return Math.max(highest, lastVersion(name)) + 1;
    }

    private long lastVersion(String name) {
        Path file = root.resolve(name).resolve(LAST_VERSION_FILE);
        if (!Files.isRegularFile(file)) {
            return 0;
        }
        try {
            return Long.parseLong(Files.readString(file, StandardCharsets.UTF_8).trim());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        } catch (NumberFormatException e) {
            throw new IllegalStateException(file + " must hold the highest version number given out; fix or remove it", e);
        }
    }

    /** Records the highest version number given out so far, before versions are deleted. */
    private void rememberLastVersion(String name) {
        Path file = root.resolve(name).resolve(LAST_VERSION_FILE);
        Path temp = root.resolve(name).resolve(LAST_VERSION_FILE + ".tmp");
        try {
            Files.writeString(temp, (nextVersion(name) - 1) + "\n", StandardCharsets.UTF_8);
            Files.move(temp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot record the last version of model " + name + " in " + file, e);
        }
    }

    private static void move(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(from, to);
        }
    }

    private ModelInfo read(String name, long version, List<Long> versions) {
        Path card = cardFile(name, version);
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

    /** Names of the model folders in the store, sorted; a folder may not hold a complete version (yet). */
    public List<String> modelNames() {
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

    /** Versions of a model that hold both files, ascending; none for a model not in the store. */
    public List<Long> versions(String name) {
        return versionFolders(name).stream()
                .filter(v -> Files.isRegularFile(cardFile(name, v)) && Files.isRegularFile(modelFile(name, v)))
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

    /** SHA-256 of a file, hex, read in pieces so that a large model is never held in memory. */
    static String sha256(Path file) throws IOException {
        MessageDigest digest = newDigest();
        try (InputStream in = Files.newInputStream(file)) {
            byte[] buffer = new byte[HASH_BUFFER];
            for (int n; (n = in.read(buffer)) > 0; ) {
                digest.update(buffer, 0, n);
            }
        }
        return HexFormat.of().formatHex(digest.digest());
    }

    private static MessageDigest newDigest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JRE", e);
        }
    }

    /** Removes a file or a folder with everything in it, if it exists. */
    private static void deleteQuietly(Path path) {
        if (!Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(path)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // Best effort: a leftover .tmp- entry is skipped by every listing.
        }
    }
}

package dev.distillery.store;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import com.google.protobuf.util.Timestamps;
import dev.distillery.error.DistilleryException;
import dev.distillery.v1.ModelInfo;
import dev.distillery.v1.ModelRef;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
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
 *
 * <p>With a shared {@link S3Bucket} ({@code distillery.store.type=s3}) the bucket holds the versions and the folder
 * is this replica's cache of it: a version is added to the bucket first (its number claimed there, so two
 * replicas adding at once get different numbers) and then to the cache; a delete removes it from the bucket
 * first. What answers "what is in the store" ({@link #list}, {@link #get}, {@link #modelNames}) first brings the
 * cache in line with the bucket ({@link #sync}): it downloads the versions whose objects' ETags differ from the
 * cached copy's (so a poll downloads nothing that has not changed) and removes the versions gone from the bucket.
 * The files a server loads are always the cache's, checked against their card's sha256 as on disk.
 */
public final class ModelStore {

    public static final String MODEL_FILE = "model.onnx";
    public static final String CARD_FILE = "model.json";
    static final String LAST_VERSION_FILE = ".last-version";
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");
    private static final Pattern VERSION = Pattern.compile("[1-9][0-9]{0,17}");
    private static final String TEMP_PREFIX = ".tmp-";
    /** In a cached version's folder: the ETags of the bucket's objects it was downloaded from. */
    private static final String TAGS_FILE = ".etags";

    private final Path root;
    private final Optional<S3Bucket> bucket;
    private final boolean writes;

    /** A store on disk that this process writes to. */
    public ModelStore(Path root) {
        this(root, Optional.empty(), true);
    }

    /**
     * A store on disk; {@code writes} is false for a replica that only reads it (a serve replica), which then
     * needs no write access to be ready.
     */
    public static ModelStore onDisk(Path root, boolean writes) {
        return new ModelStore(root, Optional.empty(), writes);
    }

    /** A store in a shared bucket, cached in {@code cache}, which this process always writes to. */
    public static ModelStore inBucket(S3Bucket bucket, Path cache) {
        return new ModelStore(cache, Optional.of(bucket), true);
    }

    private ModelStore(Path root, Optional<S3Bucket> bucket, boolean writes) {
        this.root = root.toAbsolutePath().normalize();
        this.bucket = bucket;
        this.writes = writes;
        try {
            Files.createDirectories(this.root);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the model store at " + this.root, e);
        }
    }

    /** The folder: the store itself, or with a bucket this replica's cache of it. */
    public Path root() {
        return root;
    }

    /** Where the versions are, for a person: the folder, or the bucket and the cache. */
    public String location() {
        return bucket.map(b -> b + " (cache " + root + ")").orElse(root.toString());
    }

    /**
     * The readiness check: the folder can be listed, and written where this process writes to it; with a bucket,
     * the bucket answers too.
     */
    public boolean healthy() {
        boolean folder = Files.isDirectory(root) && Files.isReadable(root) && (!writes || Files.isWritable(root));
        return folder && bucket.map(S3Bucket::answers).orElse(true);
    }

    /** Rejects names that are not safe as a single folder name. */
    public static String checkName(String name) {
        if (name == null || !isName(name)) {
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
        String found = Digests.hex(Digests.SHA_256, onnx);
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
            ModelInfo.Builder stamped = card.toBuilder()
                    .setName(name)
                    .clearVersions()
                    .setSha256(sha256)
                    .setCreated(Timestamps.fromMillis(System.currentTimeMillis()));
            ModelInfo stored;
            synchronized (this) {
                if (bucket.isPresent()) {
                    S3Bucket.Stored shared = bucket.get().add(name, temp.resolve(MODEL_FILE),
                            version -> toJson(stamped.setVersion(version).build()));
                    stored = stamped.setVersion(shared.version()).build();
                    Files.writeString(temp.resolve(CARD_FILE), toJson(stored), StandardCharsets.UTF_8);
                    install(temp, shared.tags(), versionDir(name, stored.getVersion()));
                } else {
                    stored = stamped.setVersion(nextVersion(name)).build();
                    Files.writeString(temp.resolve(CARD_FILE), toJson(stored), StandardCharsets.UTF_8);
                    Path target = versionDir(name, stored.getVersion());
                    Files.createDirectories(target.getParent());
                    move(temp, target);
                }
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
        String name = ref.getName();
        synchronized (this) {
            List<Long> versions = existingVersions(ref);
            List<Long> deleted = ref.getVersion() == 0 ? versions : List.of(resolve(ref, versions));
            if (bucket.isPresent()) {
                bucket.get().delete(name, deleted);
            } else {
                rememberLastVersion(name);
            }
            for (long version : deleted) {
                discard(versionDir(name, version));
            }
            return deleted;
        }
    }

    /**
     * Brings the cache in line with the bucket, for one model or for all when {@code name} is empty: downloads
     * each complete version whose objects' ETags differ from the cached copy's and removes each cached version
     * the bucket no longer holds. Nothing to do without a bucket.
     */
    private void sync(Optional<String> name) {
        if (bucket.isEmpty()) {
            return;
        }
        synchronized (this) {
            Map<String, NavigableMap<Long, S3Bucket.Tags>> shared = bucket.get().committed(name);
            Set<String> names = new TreeSet<>(shared.keySet());
            names.addAll(name.map(List::of).orElseGet(this::folderNames));
            for (String model : names) {
                NavigableMap<Long, S3Bucket.Tags> versions = shared.getOrDefault(model, Collections.emptyNavigableMap());
                for (long version : versionFolders(model)) {
                    if (!versions.containsKey(version)) {
                        discard(versionDir(model, version));
                    }
                }
                versions.forEach((version, tags) -> pull(model, version, tags));
            }
        }
    }

    /** Downloads one version of the bucket into the cache unless the cached copy came from the same objects. */
    private void pull(String name, long version, S3Bucket.Tags tags) {
        Path target = versionDir(name, version);
        if (tags.equals(cachedTags(target).orElse(null))) {
            return;
        }
        Path temp = root.resolve(TEMP_PREFIX + UUID.randomUUID());
        try {
            Files.createDirectories(temp);
            Optional<S3Bucket.Tags> downloaded = bucket.orElseThrow().download(name, version, temp);
            if (downloaded.isPresent()) {
                install(temp, downloaded.get(), target);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot cache model " + name + " version " + version + " in " + root, e);
        } finally {
            deleteQuietly(temp);
        }
    }

    /**
     * Puts a version downloaded to (or uploaded from) {@code temp} in the cache at {@code target}: renamed into
     * place when new; when another copy is there (a replaced version, or one that another process sharing the
     * cache put there first), model.onnx is renamed over the old, then model.json, as a person replaces a version.
     */
    private void install(Path temp, S3Bucket.Tags tags, Path target) throws IOException {
        Files.writeString(temp.resolve(TAGS_FILE), tags.onnx() + "\n" + tags.card() + "\n", StandardCharsets.UTF_8);
        Files.createDirectories(target.getParent());
        if (!Files.exists(target)) {
            try {
                move(temp, target);
                return;
            } catch (IOException e) {
                if (!Files.exists(target)) {
                    throw e;
                }
                // Another process sharing the cache put it there first: replaced below, file by file.
            }
        }
        for (String file : List.of(MODEL_FILE, CARD_FILE, TAGS_FILE)) {
            Files.move(temp.resolve(file), target.resolve(file), StandardCopyOption.REPLACE_EXISTING,
                    StandardCopyOption.ATOMIC_MOVE);
        }
    }

    /** The ETags a cached version was downloaded from; empty for none (not cached, or written before). */
    private static Optional<S3Bucket.Tags> cachedTags(Path version) {
        try {
            List<String> lines = Files.readAllLines(version.resolve(TAGS_FILE), StandardCharsets.UTF_8);
            return lines.size() == 2 ? Optional.of(new S3Bucket.Tags(lines.get(0), lines.get(1))) : Optional.empty();
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + version.resolve(TAGS_FILE), e);
        }
    }

    /** Renames a version folder out of its model's folder, then removes it; nothing if it is gone already. */
    private void discard(Path version) {
        Path away = root.resolve(TEMP_PREFIX + UUID.randomUUID());
        try {
            move(version, away);
        } catch (NoSuchFileException gone) {
            return;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete " + version, e);
        } finally {
            deleteQuietly(away);
        }
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
        sync(Optional.of(name));
        List<Long> versions = versions(name);
        if (versions.isEmpty()) {
            List<String> known = folderNames().stream().filter(n -> !versions(n).isEmpty()).toList();
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

    private long nextVersion(String name) {
        return nextVersion(versionFolders(name), lastVersion(name));
    }

    /**
     * One past every number a model has used: every numbered folder (or a bucket's numbered keys), complete or
     * not, so a half-written version is never overwritten, and every deleted version ({@code lastGivenOut}).
     */
    static long nextVersion(Collection<Long> numbered, long lastGivenOut) {
        return Math.max(numbered.stream().mapToLong(Long::longValue).max().orElse(0L), lastGivenOut) + 1;
    }

    private long lastVersion(String name) {
        Path file = root.resolve(name).resolve(LAST_VERSION_FILE);
        if (!Files.isRegularFile(file)) {
            return 0;
        }
        try {
            return parseLastVersion(Files.readString(file, StandardCharsets.UTF_8), file.toString());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }

    /** The highest version number given out, as {@code .last-version} holds it (read from {@code where}). */
    static long parseLastVersion(String text, String where) {
        try {
            return Long.parseLong(text.trim());
        } catch (NumberFormatException e) {
            throw new IllegalStateException(where + " must hold the highest version number given out; fix or remove it", e);
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

    /**
     * Names of the model folders in the store, sorted; a folder may not hold a complete version (yet). With a
     * bucket, the cache is brought in line with it first.
     */
    public List<String> modelNames() {
        sync(Optional.empty());
        return folderNames();
    }

    private List<String> folderNames() {
        try (Stream<Path> entries = Files.list(root)) {
            return entries.filter(Files::isDirectory)
                    .map(p -> p.getFileName().toString())
                    .filter(n -> !n.startsWith(TEMP_PREFIX) && isName(n))
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
                    .filter(ModelStore::isVersion)
                    .map(Long::parseLong)
                    .toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list versions of " + name, e);
        }
    }

    /** True for a name {@link #checkName} accepts: a model folder's (or a bucket key's first part). */
    static boolean isName(String name) {
        return NAME.matcher(name).matches();
    }

    /** True for a version folder's (or key's) name: a positive integer without leading zeros. */
    static boolean isVersion(String name) {
        return VERSION.matcher(name).matches();
    }

    private Path versionDir(String name, long version) {
        return root.resolve(name).resolve(Long.toString(version));
    }

    static String toJson(ModelInfo card) {
        try {
            return JsonFormat.printer().preservingProtoFieldNames().print(card.toBuilder().clearVersions()) + "\n";
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalStateException("a ModelInfo always prints as JSON", e);
        }
    }

    /** SHA-256 of a file, hex, read in pieces so that a large model is never held in memory. */
    static String sha256(Path file) throws IOException {
        return Digests.hex(Digests.SHA_256, file);
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

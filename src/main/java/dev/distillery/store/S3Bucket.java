package dev.distillery.store;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.LongFunction;
import software.amazon.awssdk.core.ResponseBytes;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.core.sync.ResponseTransformer;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * The bucket of an S3-compatible service that every replica shares, laid out as the store's folder is:
 * {@code <prefix><name>/<version>/model.onnx}, {@code .../model.json} and {@code <prefix><name>/.last-version}, so a
 * person can read it with any S3 tool. Path-style addressing, the JDK's URL connection, and checksums only where
 * an operation requires them (many S3-compatible servers do not know the SDK's newer default CRC checksums).
 *
 * <p>A version is claimed by writing its model.onnx with {@code If-None-Match: *}: of two writers that chose the
 * same number, one gets 412 Precondition Failed and tries the next number, so neither overwrites the other. Its
 * model.json is written last, also only if absent: a version counts ({@link #committed}) once both are there. A
 * delete records the highest number given out in {@code .last-version} before it removes model.json, then
 * model.onnx, and a writer that claimed a number not above that record gives it up, so a number is never given
 * out twice. Credentials come from the AWS SDK's default chain ({@code AWS_ACCESS_KEY_ID},
 * {@code AWS_SECRET_ACCESS_KEY}, ...).
 *
 * <p>What remains racy: the claim needs a service that makes {@code If-None-Match: *} atomic (AWS S3, MinIO, R2,
 * S3Proxy's nio2 backends); on one that checks and then writes, two writers may both write one model.onnx, and the
 * second model.json write then fails saying so. Deletes are meant to come from one process (control): two deletes of
 * one model racing from two processes could write {@code .last-version} out of order.
 */
public final class S3Bucket {

    /** Where the bucket is: {@code prefix} is empty or ends with '/'; no endpoint means AWS's for the region. */
    public record Settings(String bucket, Optional<URI> endpoint, String region, String prefix) {
        public Settings {
            if (bucket == null || bucket.isBlank()) {
                throw new IllegalArgumentException("distillery.store.s3.bucket (DISTILLERY_S3_BUCKET) must name the "
                        + "bucket when distillery.store.type=s3");
            }
            if (prefix == null) {
                prefix = "";
            } else if (!prefix.isEmpty() && !prefix.endsWith("/")) {
                prefix = prefix + "/";
            }
        }
    }

    /** The ETags of a version's two objects: equal tags mean the same bytes, so a cached copy is current. */
    public record Tags(String onnx, String card) {}

    /** A version this bucket now holds: its number and its objects' tags. */
    public record Stored(long version, Tags tags) {}

    private static final int PRECONDITION_FAILED = 412;

    private final S3Client client;
    private final Settings settings;

    public S3Bucket(Settings settings) {
        this.settings = settings;
        var builder = S3Client.builder()
                .httpClient(UrlConnectionHttpClient.builder().build())
                .region(Region.of(settings.region()))
                .forcePathStyle(true)
                .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
                .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED);
        settings.endpoint().ifPresent(builder::endpointOverride);
        this.client = builder.build();
    }

    /** True when the bucket answers (HEAD bucket): the readiness check. */
    public boolean answers() {
        try {
            client.headBucket(request -> request.bucket(settings.bucket()));
            return true;
        } catch (SdkException e) {
            return false;
        }
    }

    /**
     * The complete versions (model.onnx and model.json both present) by model name, of one model or of all when
     * {@code name} is empty: one listing, which reads no object.
     */
    public Map<String, NavigableMap<Long, Tags>> committed(Optional<String> name) {
        Map<String, Map<Long, String[]>> found = new TreeMap<>();
        for (S3Object object : list(name)) {
            String[] parts = versionKey(object);
            if (parts.length == 3) {
                int slot = parts[2].equals(ModelStore.MODEL_FILE) ? 0 : parts[2].equals(ModelStore.CARD_FILE) ? 1 : -1;
                if (slot >= 0) {
                    found.computeIfAbsent(parts[0], n -> new TreeMap<>())
                            .computeIfAbsent(Long.parseLong(parts[1]), v -> new String[2])[slot] = object.eTag();
                }
            }
        }
        Map<String, NavigableMap<Long, Tags>> committed = new TreeMap<>();
        found.forEach((model, versions) -> versions.forEach((version, tags) -> {
            if (tags[0] != null && tags[1] != null) {
                committed.computeIfAbsent(model, n -> new TreeMap<>()).put(version, new Tags(tags[0], tags[1]));
            }
        }));
        return committed;
    }

    /**
     * Stores the next version of a model: claims a number by writing model.onnx only if absent, then writes the
     * card {@code card} makes for that number, only if absent, last.
     */
    public Stored add(String name, Path onnx, LongFunction<String> card) {
        long version = ModelStore.nextVersion(numbered(name), lastVersion(name));
        while (true) {
            Optional<String> onnxTag = putIfAbsent(key(name, version, ModelStore.MODEL_FILE), RequestBody.fromFile(onnx),
                    md5(onnx));
            if (onnxTag.isEmpty()) {
                version++;
                continue;
            }
            long deletedUpTo = lastVersion(name);
            if (version <= deletedUpTo) {
                // A delete gave this number out and removed its objects between our listing and our claim.
                String given = key(name, version, ModelStore.MODEL_FILE);
                client.deleteObject(request -> request.bucket(settings.bucket()).key(given));
                version = deletedUpTo + 1;
                continue;
            }
            long claimed = version;
            byte[] cardBytes = card.apply(version).getBytes(StandardCharsets.UTF_8);
            String cardTag = putIfAbsent(key(name, version, ModelStore.CARD_FILE), RequestBody.fromBytes(cardBytes),
                    md5(cardBytes))
                    .orElseThrow(() -> new IllegalStateException("model.json of " + name + "/" + claimed + " appeared in "
                            + settings + " although this process claimed that version: the service does not make "
                            + "If-None-Match: * atomic, so two writers claimed it; use one that does"));
            return new Stored(version, new Tags(onnxTag.get(), cardTag));
        }
    }

    /**
     * Deletes versions of a model: records the highest number given out first, then removes each version's
     * model.json (it is no longer listed from then on) and then its model.onnx.
     */
    public void delete(String name, List<Long> versions) {
        long highest = ModelStore.nextVersion(numbered(name), lastVersion(name)) - 1;
        client.putObject(request -> request.bucket(settings.bucket()).key(lastVersionKey(name)),
                RequestBody.fromString(highest + "\n", StandardCharsets.UTF_8));
        for (long version : versions) {
            client.deleteObject(request -> request.bucket(settings.bucket()).key(key(name, version, ModelStore.CARD_FILE)));
            client.deleteObject(request -> request.bucket(settings.bucket()).key(key(name, version, ModelStore.MODEL_FILE)));
        }
    }

    /**
     * Downloads a version's model.onnx and then its model.json into {@code folder}; empty when either is gone
     * (deleted meanwhile).
     */
    public Optional<Tags> download(String name, long version, Path folder) {
        try {
            GetObjectResponse onnx = client.getObject(request -> request.bucket(settings.bucket())
                    .key(key(name, version, ModelStore.MODEL_FILE)), ResponseTransformer.toFile(folder.resolve(ModelStore.MODEL_FILE)));
            GetObjectResponse card = client.getObject(request -> request.bucket(settings.bucket())
                    .key(key(name, version, ModelStore.CARD_FILE)), ResponseTransformer.toFile(folder.resolve(ModelStore.CARD_FILE)));
            return Optional.of(new Tags(onnx.eTag(), card.eTag()));
        } catch (NoSuchKeyException e) {
            return Optional.empty();
        }
    }

    /** E.g. {@code s3://models/distillery/}. */
    @Override
    public String toString() {
        return "s3://" + settings.bucket() + "/" + settings.prefix();
    }

    /** Every version number that has an object, complete or not. */
    private List<Long> numbered(String name) {
        List<Long> numbers = new ArrayList<>();
        for (S3Object object : list(Optional.of(name))) {
            String[] parts = versionKey(object);
            if (parts.length == 3) {
                numbers.add(Long.parseLong(parts[1]));
            }
        }
        return numbers;
    }

    private long lastVersion(String name) {
        try {
            ResponseBytes<GetObjectResponse> marker = client.getObjectAsBytes(request -> request
                    .bucket(settings.bucket()).key(lastVersionKey(name)));
            return ModelStore.parseLastVersion(marker.asUtf8String(), this + name + "/" + ModelStore.LAST_VERSION_FILE);
        } catch (NoSuchKeyException e) {
            return 0;
        }
    }

    /** Writes an object unless one exists under its key: its ETag, or empty when the key was taken. */
    /**
     * Writes an object only if its key is free; empty when another writer holds it. A refusal of an object that
     * holds exactly our bytes (its ETag, the MD5 of a single PUT, is ours) is our own write: the SDK retried a PUT
     * whose first attempt had succeeded, which the service then refused as a write to a taken key.
     */
    private Optional<String> putIfAbsent(String key, RequestBody body, String md5Hex) {
        try {
            return Optional.of(client.putObject(PutObjectRequest.builder().bucket(settings.bucket()).key(key)
                    .ifNoneMatch("*").build(), body).eTag());
        } catch (S3Exception e) {
            if (e.statusCode() != PRECONDITION_FAILED) {
                throw e;
            }
            String present = client.headObject(request -> request.bucket(settings.bucket()).key(key)).eTag();
            return present.replace("\"", "").equalsIgnoreCase(md5Hex) ? Optional.of(present) : Optional.empty();
        }
    }

    private static String md5(byte[] content) {
        return Digests.hex(Digests.MD5, content);
    }

    private static String md5(Path file) {
        try {
            return Digests.hex(Digests.MD5, file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }

    private Iterable<S3Object> list(Optional<String> name) {
        String prefix = settings.prefix() + name.map(n -> n + "/").orElse("");
        return client.listObjectsV2Paginator(request -> request.bucket(settings.bucket()).prefix(prefix)).contents();
    }

    /**
     * A version's object's key, below the prefix, as {name, version, file}; an empty array for any other key (the
     * last-version marker, or a name the store would refuse, which must never become a folder of the cache).
     */
    private String[] versionKey(S3Object object) {
        String[] parts = object.key().substring(settings.prefix().length()).split("/", -1);
        return parts.length == 3 && ModelStore.isName(parts[0]) && ModelStore.isVersion(parts[1]) ? parts : new String[0];
    }

    private String key(String name, long version, String file) {
        return settings.prefix() + name + "/" + version + "/" + file;
    }

    private String lastVersionKey(String name) {
        return settings.prefix() + name + "/" + ModelStore.LAST_VERSION_FILE;
    }
}

package dev.distillery.store;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * A real S3-compatible server on this machine for the tests: S3Proxy ({@code target/s3proxy/s3proxy.jar}, put there
 * by the build) with its in-memory backend {@code transient-nio2}, as a process of its own so that its Jetty and
 * jclouds stay off the tests' classpath. That backend makes {@code If-None-Match: *} atomic (it links the new object
 * into place, which fails when one is there); S3Proxy's older {@code transient} backend checks first and then
 * writes, so two concurrent conditional writes of one key can both succeed there. It checks AWS signatures with the credentials {@link #ACCESS_KEY} / {@link #SECRET_KEY}, which
 * the AWS SDK's default chain reads from the system properties {@link #credentials()} sets.
 */
public record S3ProxyServer(Process process, URI endpoint, Path log) implements AutoCloseable {

    public static final String ACCESS_KEY = "distillery-test";
    public static final String SECRET_KEY = "distillery-test-secret";
    public static final String REGION = "us-east-1";
    private static final Path JAR = Path.of("target/s3proxy/s3proxy.jar").toAbsolutePath();
    private static final Duration STARTUP = Duration.ofMinutes(1);

    /** Starts it on a free port, writing its output to {@code log}, and waits until it accepts connections. */
    public static S3ProxyServer start(Path log) throws Exception {
        assertTrue(Files.isRegularFile(JAR), "the build copies S3Proxy to " + JAR + " (mvn process-test-resources)");
        int port;
        try (ServerSocket socket = new ServerSocket(0)) {
            port = socket.getLocalPort();
        }
        Path properties = Files.createDirectories(log.toAbsolutePath().getParent()).resolve("s3proxy-" + port + ".properties");
        Files.writeString(properties, String.join("\n",
                "s3proxy.endpoint=http://127.0.0.1:" + port,
                "s3proxy.authorization=aws-v2-or-v4",
                "s3proxy.identity=" + ACCESS_KEY,
                "s3proxy.credential=" + SECRET_KEY,
                "jclouds.provider=transient-nio2",
                "jclouds.identity=" + ACCESS_KEY,
                "jclouds.credential=" + SECRET_KEY) + "\n");
        Process process = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m", "-jar", JAR.toString(), "--properties", properties.toString())
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        S3ProxyServer server = new S3ProxyServer(process, URI.create("http://127.0.0.1:" + port), log);
        try {
            server.awaitListening(port);
        } catch (Throwable e) {
            server.close();
            throw e;
        }
        return server;
    }

    /** Polls the port: a starting process has no event to wait on. */
    private void awaitListening(int port) throws Exception {
        long deadline = System.nanoTime() + STARTUP.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                fail("S3Proxy exited with " + process.exitValue() + " while starting:\n" + Files.readString(log));
            }
            try (Socket socket = new Socket("127.0.0.1", port)) {
                return;
            } catch (IOException notYet) {
                Thread.sleep(100);
            }
        }
        fail("S3Proxy did not listen within " + STARTUP + ":\n" + Files.readString(log));
    }

    /** Lets the AWS SDK's default credentials chain in this JVM find the server's credentials. */
    public static void credentials() {
        System.setProperty("aws.accessKeyId", ACCESS_KEY);
        System.setProperty("aws.secretAccessKey", SECRET_KEY);
    }

    /** The same as {@code -D} options for another JVM. */
    public static List<String> credentialOptions() {
        return List.of("-Daws.accessKeyId=" + ACCESS_KEY, "-Daws.secretAccessKey=" + SECRET_KEY);
    }

    /** A plain client of the server, for what the store itself never does: make buckets, look at raw keys. */
    public S3Client client() {
        return S3Client.builder()
                .httpClient(UrlConnectionHttpClient.builder().build())
                .endpointOverride(endpoint)
                .region(Region.of(REGION))
                .forcePathStyle(true)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(ACCESS_KEY, SECRET_KEY)))
                .build();
    }

    /** Makes a bucket. */
    public void createBucket(String bucket) {
        try (S3Client client = client()) {
            client.createBucket(request -> request.bucket(bucket));
        }
    }

    /** The store's settings for a bucket of this server. */
    public S3Bucket.Settings settings(String bucket, String prefix) {
        return new S3Bucket.Settings(bucket, Optional.of(endpoint), REGION, prefix);
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            process.waitFor(30, TimeUnit.SECONDS);
        }
    }
}

package dev.distillery.api;

import static dev.distillery.security.Role.ADMIN;
import static dev.distillery.security.Role.PREDICT;
import static dev.distillery.security.Role.TRAIN;
import static java.util.Map.entry;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.distillery.TestCertificates;
import dev.distillery.TestPorts;
import dev.distillery.cli.Distillery;
import dev.distillery.client.Channels;
import dev.distillery.client.ServerConnection;
import dev.distillery.security.Role;
import grpc.health.v1.HealthGrpc;
import grpc.health.v1.HealthOuterClass.HealthCheckRequest;
import grpc.health.v1.HealthOuterClass.HealthCheckResponse;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerMethodDefinition;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.reflection.v1.ServerReflectionGrpc;
import io.grpc.reflection.v1.ServerReflectionRequest;
import io.grpc.reflection.v1.ServerReflectionResponse;
import io.grpc.reflection.v1.ServiceResponse;
import io.grpc.stub.StreamObserver;
import io.quarkus.grpc.runtime.GrpcServerRecorder;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The server as a cluster runs it: TLS from PEM files (a CA and certificate made for this test) and access
 * control on. Every RPC of every registered service is called over TLS by every kind of caller; the test's
 * own table below is the README's, so a changed rule or a new RPC fails here until both say the same.
 */
@QuarkusTest
@TestProfile(SecuredServerTest.TlsAndTokens.class)
class SecuredServerTest {

    static final Path DIR = Path.of("target/test-data/secured");
    static final String PREDICT_TOKEN = "predict-5f0c1a7e9b2d4c6e8a1b3d5f";
    static final String TRAIN_TOKEN = "train-7d2e4f6a8c0b1d3e5f7a9c1e";
    static final String ADMIN_TOKEN = "admin-3b5d7f9a1c3e5a7c9e1b3d5f";
    private static final Map<Role, String> TOKENS = Map.of(PREDICT, PREDICT_TOKEN, TRAIN, TRAIN_TOKEN, ADMIN, ADMIN_TOKEN);

    /** The README's table: the role each RPC needs (admin ⊇ train ⊇ predict). */
    private static final Map<String, Role> DOCUMENTED = Map.ofEntries(
            entry("distillery.v1.Prediction/Predict", PREDICT),
            entry("distillery.v1.Prediction/PredictStream", PREDICT),
            entry("inference.GRPCInferenceService/ServerLive", PREDICT),
            entry("inference.GRPCInferenceService/ServerReady", PREDICT),
            entry("inference.GRPCInferenceService/ModelReady", PREDICT),
            entry("inference.GRPCInferenceService/ServerMetadata", PREDICT),
            entry("inference.GRPCInferenceService/ModelMetadata", PREDICT),
            entry("inference.GRPCInferenceService/ModelInfer", PREDICT),
            entry("inference.GRPCInferenceService/RepositoryIndex", PREDICT),
            entry("inference.GRPCInferenceService/RepositoryModelLoad", ADMIN),
            entry("inference.GRPCInferenceService/RepositoryModelUnload", ADMIN),
            entry("distillery.v1.Training/Train", TRAIN),
            entry("distillery.v1.Training/WatchJob", TRAIN),
            entry("distillery.v1.Training/GetJob", TRAIN),
            entry("distillery.v1.Training/ListJobs", TRAIN),
            entry("distillery.v1.Training/CancelJob", ADMIN),
            entry("distillery.v1.Evaluation/Evaluate", TRAIN),
            entry("distillery.v1.Models/ListModels", TRAIN),
            entry("distillery.v1.Models/GetModel", TRAIN),
            entry("distillery.v1.Models/DownloadModel", TRAIN),
            entry("distillery.v1.Models/UploadModel", ADMIN),
            entry("distillery.v1.Models/DeleteModel", ADMIN));

    /** Writes the token Secret's files and a fresh CA and server certificate before the server starts. */
    public static final class SecuredServer implements QuarkusTestResourceLifecycleManager {
        @Override
        public Map<String, String> start() {
            try {
                TestCertificates tls = TestCertificates.create(DIR.resolve("tls"));
                Path tokens = Files.createDirectories(DIR.resolve("tokens"));
                Files.writeString(tokens.resolve("predict"), PREDICT_TOKEN + "\n");
                Files.writeString(tokens.resolve("train"), "\n  " + TRAIN_TOKEN + "  \n\n");
                Files.writeString(tokens.resolve("admin"), ADMIN_TOKEN + "\n");
                return Map.of("distillery.auth.enabled", "true",
                        "distillery.auth.tokens", tokens.toString(),
                        "distillery.tls.cert", tls.cert().toString(),
                        "distillery.tls.key", tls.key().toString());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }

        @Override
        public void stop() {}
    }

    public static final class TlsAndTokens implements QuarkusTestProfile {
        @Override
        public List<TestResourceEntry> testResources() {
            return List.of(new TestResourceEntry(SecuredServer.class));
        }
    }

    @TestHTTPResource(value = "/", tls = true)
    URL server;

    private ManagedChannel channel;

    @BeforeEach
    void connect() {
        channel = Channels.open(new ServerConnection(target(), Optional.empty(), Optional.of(ca())));
    }

    @AfterEach
    void disconnect() throws InterruptedException {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }

    @Test
    void everyRegisteredMethodHasAnAccessRuleAndTheDocumentedOne() {
        Set<String> guarded = new TreeSet<>();
        List<String> unruled = new ArrayList<>();
        for (ServerMethodDefinition<?, ?> method : registeredMethods()) {
            String name = method.getMethodDescriptor().getFullMethodName();
            if (AccessTable.exempt(name)) {
                continue;
            }
            guarded.add(name);
            if (AccessTable.required(name).isEmpty()) {
                unruled.add(name);
            } else if (AccessTable.required(name).get() != DOCUMENTED.get(name)) {
                unruled.add(name + " needs " + AccessTable.required(name).get() + ", documented " + DOCUMENTED.get(name));
            }
        }
        assertEquals(List.of(), unruled, "methods without their documented rule in AccessTable");
        assertEquals(new TreeSet<>(DOCUMENTED.keySet()), guarded, "the guarded methods are the documented ones");
    }

    @Test
    void everyRpcAgainstEveryCaller() throws Exception {
        Map<String, String> callers = new LinkedHashMap<>();
        callers.put("no token", null);
        callers.put("not Bearer", "Basic " + ADMIN_TOKEN);
        callers.put("unknown token", "Bearer unknown-0123456789abcdef0123");
        for (Role role : Role.values()) {
            callers.put(role.fileName(), "Bearer " + TOKENS.get(role));
        }
        List<String> wrong = new ArrayList<>();
        int calls = 0;
        for (ServerMethodDefinition<?, ?> definition : registeredMethods()) {
            String name = definition.getMethodDescriptor().getFullMethodName();
            Role required = DOCUMENTED.get(name);
            if (required == null) {
                continue;
            }
            for (Map.Entry<String, String> caller : callers.entrySet()) {
                Status status = call(definition.getMethodDescriptor(), caller.getValue());
                calls++;
                Optional<Role> role = Optional.ofNullable(TOKENS.entrySet().stream()
                        .filter(token -> caller.getValue() != null && caller.getValue().equals("Bearer " + token.getValue()))
                        .map(Map.Entry::getKey).findFirst().orElse(null));
                String expected;
                boolean right;
                if (role.isEmpty()) {
                    expected = "UNAUTHENTICATED";
                    right = status.getCode() == Status.Code.UNAUTHENTICATED
                            && status.getDescription().contains("'authorization: Bearer <token>'");
                } else if (!role.get().includes(required)) {
                    expected = "PERMISSION_DENIED naming " + required;
                    right = status.getCode() == Status.Code.PERMISSION_DENIED
                            && status.getDescription().contains("needs the " + required + " role");
                } else {
                    expected = "not an access status";
                    right = status.getCode() != Status.Code.UNAUTHENTICATED
                            && status.getCode() != Status.Code.PERMISSION_DENIED;
                }
                if (!right) {
                    wrong.add(name + " by " + caller.getKey() + ": expected " + expected + ", got " + status);
                }
            }
        }
        assertEquals(DOCUMENTED.size() * callers.size(), calls, "every documented RPC called by every caller");
        assertEquals(List.of(), wrong);
    }

    @Test
    void healthReflectionAndHttpEndpointsAreOpenOverTls() throws Exception {
        HealthCheckResponse health = HealthGrpc.newBlockingStub(channel).check(HealthCheckRequest.getDefaultInstance());
        assertEquals(HealthCheckResponse.ServingStatus.SERVING, health.getStatus());

        List<String> served = reflectedServices();
        assertTrue(served.containsAll(List.of("distillery.v1.Models", "distillery.v1.Training",
                "distillery.v1.Prediction", "distillery.v1.Evaluation", "inference.GRPCInferenceService")), served.toString());
        Set<String> registered = new TreeSet<>();
        registeredMethods().forEach(m -> registered.add(m.getMethodDescriptor().getServiceName()));
        for (String service : served) {
            assertTrue(registered.contains(service) || AccessTable.exempt(service + "/Any"),
                    service + " is served but neither registered (so checked here) nor open");
        }

        HttpClient http = HttpClient.newBuilder().sslContext(trusting(ca())).build();
        for (String path : List.of("q/health/live", "q/health/ready", "q/metrics")) {
            HttpResponse<String> response = http.send(HttpRequest.newBuilder(server.toURI().resolve(path)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, response.statusCode(), path + ": " + response.body());
        }
    }

    @Test
    void plainTextIsRefused() throws Exception {
        ManagedChannel plain = ManagedChannelBuilder.forTarget(target()).usePlaintext().build();
        try {
            StatusRuntimeException refused = assertThrows(StatusRuntimeException.class,
                    () -> HealthGrpc.newBlockingStub(plain).withDeadlineAfter(30, TimeUnit.SECONDS)
                            .check(HealthCheckRequest.getDefaultInstance()));
            assertEquals(Status.Code.UNAVAILABLE, refused.getStatus().getCode(), refused.getStatus().toString());
        } finally {
            plain.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
        URI http = URI.create("http://" + server.getHost() + ":" + server.getPort() + "/q/health/live");
        assertThrows(IOException.class, () -> HttpClient.newHttpClient()
                .send(HttpRequest.newBuilder(http).build(), HttpResponse.BodyHandlers.ofString()));
    }

    @Test
    void theCommandLineSendsItsTokenOverTls() {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        String[] list = {"models", "list", "--target", target(), "--tls-ca", ca().toString()};

        assertEquals(0, cli(out, err).execute(concat(list, "--token", TRAIN_TOKEN)), err.toString());
        assertTrue(out.toString().startsWith("no models yet") || out.toString().startsWith("name"), out.toString());

        assertEquals(1, cli(out, err).execute(list));
        assertTrue(err.toString().startsWith("error: UNAUTHENTICATED: distillery.v1.Models/ListModels needs an "
                + "access token"), err.toString());

        StringWriter denied = new StringWriter();
        assertEquals(1, cli(out, denied).execute(concat(list, "--token", PREDICT_TOKEN)));
        assertTrue(denied.toString().startsWith("error: PERMISSION_DENIED: distillery.v1.Models/ListModels needs the "
                + "train role"), denied.toString());
    }

    // --- helpers

    private static CommandLineRun cli(StringWriter out, StringWriter err) {
        return new CommandLineRun(out, err);
    }

    /** The command line as main() wires it, printing into the writers given. */
    private record CommandLineRun(StringWriter out, StringWriter err) {
        int execute(String... args) {
            var commandLine = Distillery.commandLine(new Distillery(Channels::open, action -> () -> {}));
            commandLine.setOut(new PrintWriter(out));
            commandLine.setErr(new PrintWriter(err));
            return commandLine.execute(args);
        }
    }

    private static String[] concat(String[] first, String... more) {
        List<String> all = new ArrayList<>(List.of(first));
        all.addAll(List.of(more));
        return all.toArray(String[]::new);
    }

    private static List<ServerMethodDefinition<?, ?>> registeredMethods() {
        List<ServerMethodDefinition<?, ?>> methods = new ArrayList<>();
        GrpcServerRecorder.getServices().forEach(service -> methods.addAll(service.definition.getMethods()));
        assertTrue(methods.size() >= DOCUMENTED.size(), "the server's services are registered: " + methods.size());
        return methods;
    }

    /**
     * The status one call of {@code method} ends with: one empty request (the method's default message), then
     * the end of the request stream; every response read. Empty requests are refused as invalid or unknown by
     * every RPC, so nothing is trained, stored or deleted.
     */
    @SuppressWarnings("unchecked")
    private Status call(MethodDescriptor<?, ?> method, String authorization) throws Exception {
        Metadata headers = new Metadata();
        if (authorization != null) {
            headers.put(AccessControl.AUTHORIZATION, authorization);
        }
        Object empty = ((MethodDescriptor.PrototypeMarshaller<?>) method.getRequestMarshaller()).getMessagePrototype();
        ClientCall<Object, Object> call = channel.newCall((MethodDescriptor<Object, Object>) method,
                CallOptions.DEFAULT.withDeadlineAfter(60, TimeUnit.SECONDS));
        CompletableFuture<Status> closed = new CompletableFuture<>();
        call.start(new ClientCall.Listener<Object>() {
            @Override
            public void onMessage(Object message) {
                call.request(1);
            }

            @Override
            public void onClose(Status status, Metadata trailers) {
                closed.complete(status);
            }
        }, headers);
        call.request(1);
        call.sendMessage(empty);
        call.halfClose();
        return closed.get(90, TimeUnit.SECONDS);
    }

    private List<String> reflectedServices() throws Exception {
        CompletableFuture<List<String>> names = new CompletableFuture<>();
        StreamObserver<ServerReflectionRequest> requests = ServerReflectionGrpc.newStub(channel)
                .serverReflectionInfo(new StreamObserver<>() {
                    @Override
                    public void onNext(ServerReflectionResponse response) {
                        names.complete(response.getListServicesResponse().getServiceList().stream()
                                .map(ServiceResponse::getName).toList());
                    }

                    @Override
                    public void onError(Throwable t) {
                        names.completeExceptionally(t);
                    }

                    @Override
                    public void onCompleted() {}
                });
        requests.onNext(ServerReflectionRequest.newBuilder().setListServices("").build());
        requests.onCompleted();
        return names.get(30, TimeUnit.SECONDS);
    }

    private static String target() {
        return TestPorts.grpcTarget();
    }

    private static Path ca() {
        return DIR.resolve("tls/ca.pem");
    }

    private static SSLContext trusting(Path ca) throws IOException, GeneralSecurityException {
        KeyStore trusted = KeyStore.getInstance(KeyStore.getDefaultType());
        trusted.load(null, null);
        try (InputStream in = Files.newInputStream(ca)) {
            trusted.setCertificateEntry("ca", CertificateFactory.getInstance("X.509").generateCertificate(in));
        }
        TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        trust.init(trusted);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, trust.getTrustManagers(), null);
        return context;
    }
}

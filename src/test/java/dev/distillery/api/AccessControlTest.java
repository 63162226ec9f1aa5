package dev.distillery.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.distillery.config.DistilleryConfig;
import dev.distillery.inference.GRPCInferenceServiceGrpc;
import dev.distillery.security.TokenDirectory;
import dev.distillery.v1.ModelsGrpc;
import dev.distillery.v1.PredictionGrpc;
import dev.distillery.v1.TrainingGrpc;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The interceptor in-process, in front of services that only note that a call reached them: what each kind
 * of caller gets, and that a refused call never reaches a service. SecuredServerTest runs every RPC of the
 * real server against every role over TLS.
 */
class AccessControlTest {

    private static final String PREDICT = "predict-token-0123456789";
    private static final String TRAIN = "train-token-0123456789";
    private static final String ADMIN = "admin-token-0123456789";
    private static final String ABSENT = null;

    private static final String PREDICT_METHOD = PredictionGrpc.getPredictMethod().getFullMethodName();
    private static final String GET_MODEL = ModelsGrpc.getGetModelMethod().getFullMethodName();
    private static final String DELETE_MODEL = ModelsGrpc.getDeleteModelMethod().getFullMethodName();
    private static final String CANCEL_JOB = TrainingGrpc.getCancelJobMethod().getFullMethodName();
    private static final String LOAD_MODEL = GRPCInferenceServiceGrpc.getRepositoryModelLoadMethod().getFullMethodName();
    private static final String HEALTH = "grpc.health.v1.Health/Check";
    private static final String REFLECTION = "grpc.reflection.v1.ServerReflection/ServerReflectionInfo";
    private static final String INTERNAL = "distillery.internal.v1.Workers/Report";
    private static final String UNLISTED = "distillery.v1.Models/RenameModel";

    @TempDir
    Path tokenDir;

    private final Set<String> reached = ConcurrentHashMap.newKeySet();
    private Server server;
    private ManagedChannel channel;
    private TokenDirectory tokens;

    @AfterEach
    void stop() throws InterruptedException {
        if (server != null) {
            channel.shutdownNow();
            server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
        if (tokens != null) {
            tokens.close();
        }
    }

    @Test
    void noTokenAMalformedOneAndAnUnknownOneAreUnauthenticatedAndSayWhatToSend() throws Exception {
        start(enforcing());
        for (String authorization : new String[] {ABSENT, ADMIN, "Basic " + ADMIN, "Bearer", "Bearer   ",
                "Bearer unknown-token-0123456789"}) {
            Status status = call(PREDICT_METHOD, authorization);
            assertEquals(Status.Code.UNAUTHENTICATED, status.getCode(), authorization);
            assertTrue(status.getDescription().contains("'authorization: Bearer <token>'"), status.getDescription());
            assertFalse(status.getDescription().contains("0123456789"), "never echoes a token");
        }
        assertEquals(Set.of(), reached, "a refused call never reaches the service");
    }

    @Test
    void aTokenWithoutTheRoleIsDeniedNamingTheRoleNeeded() throws Exception {
        start(enforcing());
        Status status = call(DELETE_MODEL, bearer(TRAIN));
        assertEquals(Status.Code.PERMISSION_DENIED, status.getCode());
        assertEquals(DELETE_MODEL + " needs the admin role (or a role above it: predict < train < admin); "
                + "this token has the train role", status.getDescription());

        Status predicting = call(GET_MODEL, bearer(PREDICT));
        assertEquals(Status.Code.PERMISSION_DENIED, predicting.getCode());
        assertTrue(predicting.getDescription().contains("needs the train role"), predicting.getDescription());
        assertEquals(Set.of(), reached);
    }

    @Test
    void eachRoleReachesWhatItAndTheRolesBelowItGuard() throws Exception {
        start(enforcing());
        assertPasses(PREDICT_METHOD, bearer(PREDICT));
        assertPasses(PREDICT_METHOD, bearer(TRAIN));
        assertPasses(GET_MODEL, bearer(TRAIN));
        assertPasses(CANCEL_JOB, bearer(ADMIN));
        assertPasses(LOAD_MODEL, bearer(ADMIN));
        assertEquals(Status.Code.PERMISSION_DENIED, call(LOAD_MODEL, bearer(PREDICT)).getCode(),
                "loading a model is the repository extension: admin only");
        assertEquals(Set.of(PREDICT_METHOD, GET_MODEL, CANCEL_JOB, LOAD_MODEL), reached);
    }

    @Test
    void theSchemeIsCaseInsensitiveAndTheTokenMayHaveSurroundingSpace() throws Exception {
        start(enforcing());
        assertPasses(PREDICT_METHOD, "bearer " + PREDICT);
        assertPasses(PREDICT_METHOD, "BEARER   " + PREDICT + " ");
    }

    @Test
    void aMethodMissingFromTheTableIsRefusedEvenToAdmin() throws Exception {
        start(enforcing());
        Status status = call(UNLISTED, bearer(ADMIN));
        assertEquals(Status.Code.PERMISSION_DENIED, status.getCode());
        assertEquals(UNLISTED + " is not in the server's access table, so no token may call it", status.getDescription());
        assertEquals(Status.Code.UNAUTHENTICATED, call(UNLISTED, ABSENT).getCode(), "still needs a token first");
        assertEquals(Set.of(), reached);
    }

    @Test
    void healthReflectionAndTheInternalWorkerChannelPassWithoutToken() throws Exception {
        start(enforcing());
        for (String method : List.of(HEALTH, REFLECTION, INTERNAL)) {
            assertPasses(method, ABSENT);
        }
        assertPasses(INTERNAL, "Bearer per-job-token-not-ours"); // the internal channel checks its own tokens
        assertEquals(Set.of(HEALTH, REFLECTION, INTERNAL), reached);
    }

    @Test
    void offLetsEveryCallThrough() throws Exception {
        start(new AccessControl((TokenDirectory) null));
        assertPasses(DELETE_MODEL, ABSENT);
        assertPasses(UNLISTED, "Basic whatever");
        assertEquals(Set.of(DELETE_MODEL, UNLISTED), reached);
    }

    @Test
    void withoutTokensTheServerDoesNotStart() throws IOException {
        Path missing = tokenDir.resolve("not-mounted");
        IllegalStateException notMounted = assertThrows(IllegalStateException.class,
                () -> AccessControl.open(auth(missing), true));
        assertTrue(notMounted.getMessage().startsWith("access control is on (distillery.auth.enabled, DISTILLERY_AUTH) "
                + "but the token directory " + missing + " does not exist"), notMounted.getMessage());
        assertTrue(notMounted.getMessage().endsWith("the server does not start without tokens rather than run open"));

        Files.writeString(tokenDir.resolve("admin"), "\n\n");
        IllegalStateException empty = assertThrows(IllegalStateException.class,
                () -> AccessControl.open(auth(tokenDir), false));
        assertTrue(empty.getMessage().contains("holds no token"), empty.getMessage());
    }

    private static DistilleryConfig.Auth auth(Path tokens) {
        return new DistilleryConfig.Auth() {
            @Override
            public boolean enabled() {
                return true;
            }

            @Override
            public Path tokens() {
                return tokens;
            }

            @Override
            public Duration reloadInterval() {
                return Duration.ofHours(1);
            }
        };
    }

    // --- helpers

    private AccessControl enforcing() throws IOException {
        Files.writeString(tokenDir.resolve("predict"), PREDICT + "\n");
        Files.writeString(tokenDir.resolve("train"), TRAIN + "\n");
        Files.writeString(tokenDir.resolve("admin"), ADMIN + "\n");
        tokens = TokenDirectory.open(tokenDir, Duration.ofHours(1));
        return new AccessControl(tokens);
    }

    /** Serves every method this test calls, each answering OK (no message) after noting that it was reached. */
    private void start(ServerInterceptor access) throws IOException {
        String name = InProcessServerBuilder.generateName();
        InProcessServerBuilder builder = InProcessServerBuilder.forName(name).directExecutor();
        for (String service : List.of("distillery.v1.Prediction", "distillery.v1.Models", "distillery.v1.Training",
                "inference.GRPCInferenceService", "grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection",
                "distillery.internal.v1.Workers")) {
            ServerServiceDefinition.Builder definition = ServerServiceDefinition.builder(service);
            for (String method : List.of(PREDICT_METHOD, GET_MODEL, DELETE_MODEL, UNLISTED, CANCEL_JOB, LOAD_MODEL,
                    HEALTH, REFLECTION, INTERNAL)) {
                if (method.startsWith(service + "/")) {
                    definition.addMethod(method(method), (ServerCall<byte[], byte[]> call, Metadata headers) -> {
                        reached.add(method);
                        call.request(1);
                        return new ServerCall.Listener<byte[]>() {
                            @Override
                            public void onHalfClose() {
                                call.close(Status.OK, new Metadata());
                            }
                        };
                    });
                }
            }
            builder.addService(ServerInterceptors.intercept(definition.build(), access));
        }
        server = builder.build().start();
        channel = InProcessChannelBuilder.forName(name).directExecutor().build();
    }

    /** The status a call to {@code method} ends with, sent with this authorization value (none when null). */
    private Status call(String method, String authorization) throws Exception {
        Metadata headers = new Metadata();
        if (authorization != null) {
            headers.put(AccessControl.AUTHORIZATION, authorization);
        }
        CompletableFuture<Status> closed = new CompletableFuture<>();
        ClientCall<byte[], byte[]> call = channel.newCall(method(method), CallOptions.DEFAULT);
        call.start(new ClientCall.Listener<byte[]>() {
            @Override
            public void onClose(Status status, Metadata trailers) {
                closed.complete(status);
            }
        }, headers);
        call.request(1);
        call.sendMessage(new byte[0]);
        call.halfClose();
        return closed.get(30, TimeUnit.SECONDS);
    }

    /** Asserts that the call reached the service, whose answer is OK. */
    private void assertPasses(String method, String authorization) throws Exception {
        Status status = call(method, authorization);
        assertEquals(Status.Code.OK, status.getCode(), method + " with " + authorization + ": " + status);
    }

    private static String bearer(String token) {
        return "Bearer " + token;
    }

    /** Streaming both ways, so a service may answer OK without a message (a unary one may not). */
    private static MethodDescriptor<byte[], byte[]> method(String fullName) {
        return MethodDescriptor.<byte[], byte[]>newBuilder()
                .setType(MethodDescriptor.MethodType.BIDI_STREAMING)
                .setFullMethodName(fullName)
                .setRequestMarshaller(BYTES)
                .setResponseMarshaller(BYTES)
                .build();
    }

    private static final MethodDescriptor.Marshaller<byte[]> BYTES = new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(byte[] value) {
            return new ByteArrayInputStream(value);
        }

        @Override
        public byte[] parse(InputStream stream) {
            try {
                return stream.readAllBytes();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    };
}

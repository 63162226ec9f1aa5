package dev.distillery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.distillery.v1.ListJobsRequest;
import dev.distillery.v1.ModelRef;
import dev.distillery.v1.PredictRequest;
import dev.distillery.v1.PredictionGrpc;
import dev.distillery.v1.TrainingGrpc;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** A serve-only replica: Prediction answers, Training is UNIMPLEMENTED, and it is ready without a job folder. */
@QuarkusTest
@TestProfile(ServeRoleTest.ServeOnly.class)
class ServeRoleTest {

    static final Path JOBS = Path.of("target/test-data/serve-only-jobs");

    public static final class ServeOnly implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("distillery.roles", "serve", "distillery.jobs.root", JOBS.toString());
        }
    }

    @TestHTTPResource("/")
    URL server;

    @Test
    void servesPredictionRefusesTrainingAndNeedsNoJobFolder() throws Exception {
        ManagedChannel channel = ManagedChannelBuilder.forAddress("localhost", TestPorts.grpc()).usePlaintext().build();
        try {
            StatusRuntimeException training = assertThrows(StatusRuntimeException.class, () -> TrainingGrpc
                    .newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS).listJobs(ListJobsRequest.getDefaultInstance()));
            assertEquals(Status.Code.UNIMPLEMENTED, training.getStatus().getCode());
            assertTrue(training.getStatus().getDescription().contains("role 'control'"), training.getStatus().getDescription());

            StatusRuntimeException predict = assertThrows(StatusRuntimeException.class, () -> PredictionGrpc
                    .newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS)
                    .predict(PredictRequest.newBuilder().setModel(ModelRef.newBuilder().setName("absent")).build()));
            assertNotEquals(Status.Code.UNIMPLEMENTED, predict.getStatus().getCode(), "Prediction is served (and refuses "
                    + "this empty request): " + predict.getStatus());
        } finally {
            channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
        }
        HttpResponse<String> ready = HttpClient.newHttpClient().send(
                HttpRequest.newBuilder(URI.create(server + "q/health/ready")).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, ready.statusCode(), ready.body());
        assertTrue(ready.body().contains("\"roles\": \"serve\"") || ready.body().contains("\"roles\":\"serve\""), ready.body());
        assertFalse(Files.exists(JOBS), "a serve-only replica does not create the job folder");
    }
}

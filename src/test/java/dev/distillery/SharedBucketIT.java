package dev.distillery;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.google.protobuf.ByteString;
import dev.distillery.store.S3ProxyServer;
import dev.distillery.v1.Architecture;
import dev.distillery.v1.ConvStage;
import dev.distillery.v1.DataSpec;
import dev.distillery.v1.DeleteModelRequest;
import dev.distillery.v1.GetModelRequest;
import dev.distillery.v1.Input;
import dev.distillery.v1.JobEvent;
import dev.distillery.v1.ModelInfo;
import dev.distillery.v1.ModelRef;
import dev.distillery.v1.ModelsGrpc;
import dev.distillery.v1.PredictRequest;
import dev.distillery.v1.PredictResponse;
import dev.distillery.v1.PredictionGrpc;
import dev.distillery.v1.Recipe;
import dev.distillery.v1.Tensor;
import dev.distillery.v1.TrainRequest;
import dev.distillery.v1.UploadHeader;
import dev.distillery.v1.UploadModelRequest;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Two packaged servers that share only a bucket of a real S3-compatible server on this machine (S3Proxy): one
 * (control and serve) trains a model in its worker process, which stores it in the bucket; the other (serve only,
 * its own cache) serves it, and notices a version added later and a version deleted later through the first
 * without a restart.
 */
@Timeout(value = 15, unit = TimeUnit.MINUTES)
class SharedBucketIT {

    private static final Path WORK = Path.of("target/shared-bucket-it").toAbsolutePath();
    private static final String BUCKET = "distillery";
    private static final Duration DEADLINE = Duration.ofMinutes(5);
    private static S3ProxyServer s3;
    private static PackagedServer control;
    private static PackagedServer serve;

    @BeforeAll
    static void start() throws Exception {
        PackagedServer.deleteTree(WORK);
        Files.createDirectories(WORK);
        s3 = S3ProxyServer.start(WORK.resolve("s3proxy.log"));
        s3.createBucket(BUCKET);
        control = PackagedServer.start(WORK.resolve("control-cache"), WORK.resolve("control-jobs"),
                WORK.resolve("control.log"), shared().toArray(String[]::new));
        List<String> serveOnly = shared();
        serveOnly.addAll(List.of("-Ddistillery.roles=serve", "-Ddistillery.serving.poll-interval=1s"));
        serve = PackagedServer.start(WORK.resolve("serve-cache"), WORK.resolve("serve-jobs"), WORK.resolve("serve.log"),
                serveOnly.toArray(String[]::new));
    }

    /** The store settings both servers (and control's workers, which inherit them) have. */
    private static List<String> shared() {
        List<String> settings = new ArrayList<>(List.of("-Ddistillery.store.type=s3",
                "-Ddistillery.store.s3.bucket=" + BUCKET, "-Ddistillery.store.s3.endpoint=" + s3.endpoint(),
                "-Ddistillery.store.s3.region=" + S3ProxyServer.REGION, "-Ddistillery.store.s3.prefix=models/"));
        settings.addAll(S3ProxyServer.credentialOptions());
        return settings;
    }

    @AfterAll
    static void stop() throws InterruptedException {
        for (AutoCloseable process : new AutoCloseable[] {serve, control, s3}) {
            try {
                if (process != null) {
                    process.close();
                }
            } catch (Exception e) {
                System.err.println("stopping " + process + ": " + e);
            }
        }
    }

    /** A tiny job: 1,000 Fashion-MNIST images, a one-stage CNN, one epoch, a fixed seed. */
    private static Recipe recipe(String outputModel) {
        return Recipe.newBuilder()
                .setOutputModel(outputModel)
                .setStudent(Architecture.newBuilder().setName("cnn").addStages(ConvStage.newBuilder().addChannels(4)).addHidden(16))
                .setData(DataSpec.newBuilder().setDataset("fashion-mnist").setTrainLimit(1000))
                .setEpochs(1)
                .setBatchSize(50)
                .setSeed(5)
                .build();
    }

    private static PredictRequest predict(long version) {
        List<Float> zeros = Collections.nCopies(28 * 28, 0f);
        return PredictRequest.newBuilder().setModel(ModelRef.newBuilder().setName("shared").setVersion(version))
                .addInputs(Input.newBuilder().setTensor(Tensor.newBuilder().addShape(1).addShape(28).addShape(28)
                        .addAllValues(zeros)))
                .build();
    }

    /** Polls another process's state with a deadline. */
    private static <T> T await(String what, Supplier<T> probe, Predicate<T> done) throws Exception {
        long deadline = System.nanoTime() + DEADLINE.toNanos();
        while (true) {
            T seen = probe.get();
            if (done.test(seen)) {
                return seen;
            }
            if (System.nanoTime() > deadline) {
                fail("not within " + DEADLINE + ": " + what + " (last: " + seen + ")\n" + serve.tail());
            }
            Thread.sleep(200);
        }
    }

    @Test
    void aModelTrainedThroughOneServerIsServedByAnotherThatSharesOnlyTheBucket() throws Exception {
        ManagedChannel toControl = ManagedChannelBuilder.forAddress("localhost", control.port()).usePlaintext().build();
        ManagedChannel toServe = ManagedChannelBuilder.forAddress("localhost", serve.port()).usePlaintext().build();
        try (PackagedServer.Connection training = control.connect()) {
            List<JobEvent> events = new ArrayList<>();
            training.training.withDeadlineAfter(DEADLINE.toSeconds(), TimeUnit.SECONDS)
                    .train(TrainRequest.newBuilder().setRecipe(recipe("shared")).build()).forEachRemaining(events::add);
            JobEvent last = events.get(events.size() - 1);
            assertTrue(last.hasFinished(), last.toString());
            assertEquals(ModelRef.newBuilder().setName("shared").setVersion(1).build(), last.getFinished().getModel());

            // The worker wrote to the bucket; the serving replica never saw control's files.
            try (var client = s3.client()) {
                List<String> keys = client.listObjectsV2Paginator(r -> r.bucket(BUCKET)).contents().stream()
                        .map(o -> o.key()).sorted().toList();
                assertEquals(List.of("models/shared/1/model.json", "models/shared/1/model.onnx"), keys);
            }
            PredictionGrpc.PredictionBlockingStub prediction = PredictionGrpc.newBlockingStub(toServe);
            PredictResponse first = prediction.predict(predict(0));
            assertEquals(1, first.getModel().getVersion());
            assertEquals(3, first.getClassifications(0).getTopCount(), first.toString());
            Path served = WORK.resolve("serve-cache/shared/1/model.onnx");
            assertArrayEquals(Files.readAllBytes(WORK.resolve("control-cache/shared/1/model.onnx")), Files.readAllBytes(served));

            // A version uploaded through control later: the serving replica's watcher finds it in the bucket.
            ModelsGrpc.ModelsBlockingStub models = ModelsGrpc.newBlockingStub(toControl);
            ModelInfo card = models.getModel(GetModelRequest.newBuilder().setModel(ModelRef.newBuilder().setName("shared")).build());
            ModelInfo second = upload(toControl, UploadHeader.newBuilder().setName("shared").addAllLabels(card.getLabelsList())
                    .build(), Files.readAllBytes(served));
            assertEquals(2, second.getVersion());
            await("the serving replica serves version 2", () -> prediction.predict(predict(0)).getModel().getVersion(),
                    version -> version == 2);

            // A version deleted through control: the serving replica lets it go and serves version 1 again.
            models.deleteModel(DeleteModelRequest.newBuilder().setModel(ModelRef.newBuilder().setName("shared").setVersion(2)).build());
            await("the serving replica serves version 1 again", () -> prediction.predict(predict(0)).getModel().getVersion(),
                    version -> version == 1);
            StatusRuntimeException gone = assertThrows(StatusRuntimeException.class, () -> prediction.predict(predict(2)));
            assertEquals(Status.Code.NOT_FOUND, gone.getStatus().getCode(), gone.getMessage());
            assertFalse(Files.exists(WORK.resolve("serve-cache/shared/2")));
            assertTrue(Files.readString(serve.log()).contains("model shared version 2 ready"), serve.tail());
        } finally {
            toControl.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
            toServe.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
        }
    }

    /** UploadModel: the header, then the file in one chunk. */
    private static ModelInfo upload(ManagedChannel channel, UploadHeader header, byte[] onnx) throws Exception {
        CompletableFuture<ModelInfo> stored = new CompletableFuture<>();
        StreamObserver<UploadModelRequest> call = ModelsGrpc.newStub(channel).uploadModel(new StreamObserver<>() {
            @Override
            public void onNext(ModelInfo value) {
                stored.complete(value);
            }

            @Override
            public void onError(Throwable t) {
                stored.completeExceptionally(t);
            }

            @Override
            public void onCompleted() {
                stored.completeExceptionally(new IllegalStateException("UploadModel ended without a card"));
            }
        });
        call.onNext(UploadModelRequest.newBuilder().setHeader(header).build());
        call.onNext(UploadModelRequest.newBuilder().setChunk(ByteString.copyFrom(onnx)).build());
        call.onCompleted();
        return stored.get(2, TimeUnit.MINUTES);
    }
}

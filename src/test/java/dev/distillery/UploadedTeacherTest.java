package dev.distillery;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.ByteString;
import com.google.protobuf.FloatValue;
import dev.distillery.api.UploadCalls;
import dev.distillery.data.Datasets;
import dev.distillery.data.ImageSource;
import dev.distillery.data.Pixels;
import dev.distillery.serve.OnnxModels;
import dev.distillery.v1.Architecture;
import dev.distillery.v1.ConvStage;
import dev.distillery.v1.DataSpec;
import dev.distillery.v1.DeleteModelRequest;
import dev.distillery.v1.DeleteModelResponse;
import dev.distillery.v1.DownloadModelRequest;
import dev.distillery.v1.DownloadModelResponse;
import dev.distillery.v1.EvaluateRequest;
import dev.distillery.v1.EvaluationGrpc;
import dev.distillery.v1.GetModelRequest;
import dev.distillery.v1.Input;
import dev.distillery.v1.JobEvent;
import dev.distillery.v1.ModelInfo;
import dev.distillery.v1.ModelRef;
import dev.distillery.v1.ModelsGrpc;
import dev.distillery.v1.PredictRequest;
import dev.distillery.v1.PredictResponse;
import dev.distillery.v1.PredictionGrpc;
import dev.distillery.v1.Preprocessing;
import dev.distillery.v1.Recipe;
import dev.distillery.v1.TrainRequest;
import dev.distillery.v1.TrainingGrpc;
import dev.distillery.v1.UploadHeader;
import dev.distillery.v1.UploadModelRequest;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A teacher from anywhere: a CNN trained and exported by PyTorch ({@code
 * src/test/resources/fixtures/make_pytorch_teacher.py}) is uploaded over gRPC, served as PyTorch
 * scored it, and a small student is distilled from it on Fashion-MNIST.
 */
@QuarkusTest
class UploadedTeacherTest {

    private static final int CHUNK = 32 << 10;
    private static final int AGREEMENT_IMAGES = 200;

    @Inject
    Datasets datasets;

    private ManagedChannel channel;

    @BeforeEach
    void connect() {
        channel = ManagedChannelBuilder.forAddress("localhost", TestPorts.grpc()).usePlaintext().build();
    }

    @AfterEach
    void disconnect() {
        channel.shutdownNow();
    }

    @Test
    void aPyTorchTeacherIsUploadedAndDistilled() throws Exception {
        byte[] onnx = resource("/fixtures/pytorch_teacher.onnx");
        JsonNode made = new ObjectMapper().readTree(resource("/fixtures/pytorch_teacher.json"));
        UploadHeader header = UploadHeader.newBuilder()
                .setName("pytorch-teacher")
                .addAllLabels(datasets.get("fashion-mnist").labels())
                .setPreprocessing(Preprocessing.newBuilder()
                        .addMean((float) made.get("mean").asDouble()).addStd((float) made.get("std").asDouble()))
                .putMetrics("test_accuracy", made.get("test_accuracy").asDouble())
                .build();
        ModelInfo uploaded = upload(header, onnx);
        ModelRef teacher = ModelRef.newBuilder().setName(uploaded.getName()).setVersion(uploaded.getVersion()).build();
        assertEquals(made.get("parameters").asLong(), uploaded.getParameters());

        // Served as PyTorch scored it: the same accuracy on the same images, give or take a near tie.
        double served = EvaluationGrpc.newBlockingStub(channel).evaluate(EvaluateRequest.newBuilder()
                .addModels(teacher).setDataset("fashion-mnist").setLimit(1000).setLatencySamples(5).build())
                .getResults(0).getTop1Accuracy();
        assertEquals(made.get("test_accuracy_first_1000").asDouble(), served, 0.01,
                "the uploaded teacher's accuracy through the server, against PyTorch's on the same 1,000 images");

        Recipe recipe = Recipe.newBuilder()
                .setOutputModel("pytorch-student")
                .setTeacher(ModelRef.newBuilder().setName(teacher.getName()))
                .setStudent(Architecture.newBuilder().setName("cnn")
                        .addStages(ConvStage.newBuilder().addChannels(8)).setBatchNorm(true).addHidden(32))
                .setData(DataSpec.newBuilder().setDataset("fashion-mnist").setTrainLimit(4000)
                        .setLabelledFraction(FloatValue.of(0.25f)))
                .setEpochs(3)
                .setBatchSize(64)
                .setSeed(5)
                .build();
        List<JobEvent> events = new ArrayList<>();
        TrainingGrpc.newBlockingStub(channel).train(TrainRequest.newBuilder().setRecipe(recipe).build())
                .forEachRemaining(events::add);
        JobEvent last = events.get(events.size() - 1);
        assertTrue(last.hasFinished(), "the distillation job did not finish: " + last);
        assertTrue(events.stream().anyMatch(e -> e.hasStage() && e.getStage().getName().equals("teacher")),
                "the uploaded teacher's logits were computed");
        ModelRef student = last.getFinished().getModel();

        ModelInfo card = ModelsGrpc.newBlockingStub(channel).getModel(GetModelRequest.newBuilder().setModel(student).build());
        assertEquals(teacher, card.getLineage().getTeacher(), "the lineage names the exact uploaded version");

        double accuracy = EvaluationGrpc.newBlockingStub(channel).evaluate(EvaluateRequest.newBuilder()
                .addModels(student).setDataset("fashion-mnist").setLimit(1000).setLatencySamples(5).build())
                .getResults(0).getTop1Accuracy();
        assertTrue(accuracy > 0.5, "the student's test accuracy " + accuracy + " should be far above chance (0.1)");
        double agreement = agreement(teacher, student);
        assertTrue(agreement > 0.6, "the student agrees with its teacher on " + agreement + " of the test images");
    }

    /** Through Quarkus's worker-thread dispatch: a download in several chunks, then a delete. */
    @Test
    void aLargeModelDownloadsWholeAndIsDeleted() throws Exception {
        byte[] onnx = OnnxModels.classifier(3, 128, 128, 10).bytes();
        UploadHeader.Builder header = UploadHeader.newBuilder().setName("quarkus-round-trip");
        for (int i = 0; i < 10; i++) {
            header.addLabels("class " + i);
        }
        ModelInfo stored = upload(header.build(), onnx);

        ModelsGrpc.ModelsBlockingStub models = ModelsGrpc.newBlockingStub(channel).withDeadlineAfter(60, TimeUnit.SECONDS);
        Iterator<DownloadModelResponse> parts = models.downloadModel(DownloadModelRequest.newBuilder()
                .setModel(ModelRef.newBuilder().setName(stored.getName()).setVersion(stored.getVersion())).build());
        assertEquals(stored, parts.next().getInfo());
        ByteArrayOutputStream file = new ByteArrayOutputStream();
        int chunks = 0;
        while (parts.hasNext()) {
            parts.next().getChunk().writeTo(file);
            chunks++;
        }
        assertArrayEquals(onnx, file.toByteArray());
        assertTrue(chunks >= 2, "a " + onnx.length + "-byte file in " + chunks + " chunk(s)");

        DeleteModelResponse deleted = models.deleteModel(DeleteModelRequest.newBuilder()
                .setModel(ModelRef.newBuilder().setName(stored.getName())).build());
        assertTrue(deleted.getDeletedVersionsList().contains(stored.getVersion()));
        StatusRuntimeException gone = assertThrows(StatusRuntimeException.class, () -> models.getModel(
                GetModelRequest.newBuilder().setModel(ModelRef.newBuilder().setName(stored.getName())).build()));
        assertEquals(Status.Code.NOT_FOUND, gone.getStatus().getCode());
    }

    private ModelInfo upload(UploadHeader header, byte[] onnx) {
        return UploadCalls.send(ModelsGrpc.newStub(channel), UploadCalls.messages(header.toBuilder(), onnx, CHUNK));
    }

    /** Share of test images, sent as PNG files, on which both models' top class is the same. */
    private double agreement(ModelRef teacher, ModelRef student) throws IOException {
        ImageSource test = datasets.load("fashion-mnist", "test").first(AGREEMENT_IMAGES);
        List<Input> images = new ArrayList<>();
        for (int i = 0; i < test.count(); i++) {
            images.add(Input.newBuilder().setImage(png(test, i)).build());
        }
        List<Integer> byTeacher = topClasses(teacher, images);
        List<Integer> byStudent = topClasses(student, images);
        int same = 0;
        for (int i = 0; i < images.size(); i++) {
            same += byTeacher.get(i).equals(byStudent.get(i)) ? 1 : 0;
        }
        return (double) same / images.size();
    }

    private List<Integer> topClasses(ModelRef model, List<Input> images) {
        PredictResponse response = PredictionGrpc.newBlockingStub(channel).predict(PredictRequest.newBuilder()
                .setModel(model).addAllInputs(images).setTopK(1).build());
        return response.getClassificationsList().stream().map(c -> c.getTop(0).getIndex()).toList();
    }

    private static ByteString png(ImageSource images, int index) throws IOException {
        Pixels pixels = images.image(index);
        BufferedImage image = new BufferedImage(pixels.width(), pixels.height(), BufferedImage.TYPE_BYTE_GRAY);
        for (int y = 0; y < pixels.height(); y++) {
            for (int x = 0; x < pixels.width(); x++) {
                image.getRaster().setSample(x, y, 0, pixels.get(0, y, x));
            }
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(image, "png", out);
        return ByteString.copyFrom(out.toByteArray());
    }

    private static byte[] resource(String path) throws IOException {
        try (InputStream in = UploadedTeacherTest.class.getResourceAsStream(path)) {
            assertTrue(in != null, "missing test resource " + path);
            return in.readAllBytes();
        }
    }
}

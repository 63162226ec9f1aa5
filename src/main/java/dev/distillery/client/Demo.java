package dev.distillery.client;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.ByteString;
import com.google.protobuf.FloatValue;
import dev.distillery.data.IdxReader;
import dev.distillery.data.ImageSet;
import dev.distillery.v1.Architecture;
import dev.distillery.v1.ClassScore;
import dev.distillery.v1.Classification;
import dev.distillery.v1.ConvStage;
import dev.distillery.v1.DataSpec;
import dev.distillery.v1.Distillation;
import dev.distillery.v1.EvaluateRequest;
import dev.distillery.v1.EvaluateResponse;
import dev.distillery.v1.EvaluationGrpc;
import dev.distillery.v1.GetModelRequest;
import dev.distillery.v1.Input;
import dev.distillery.v1.JobEvent;
import dev.distillery.v1.ModelEvaluation;
import dev.distillery.v1.ModelRef;
import dev.distillery.v1.ModelsGrpc;
import dev.distillery.v1.PredictRequest;
import dev.distillery.v1.PredictResponse;
import dev.distillery.v1.PredictionGrpc;
import dev.distillery.v1.Recipe;
import dev.distillery.v1.TrainRequest;
import dev.distillery.v1.TrainingGrpc;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import javax.imageio.ImageIO;

/**
 * The README's demo, as a gRPC client of a running server: train the reference teacher on every
 * label, train the student alone on a tenth of the labels, distill the student from the teacher
 * over every image with that same tenth of the labels, compare the three, then classify three test
 * images. It talks to the server through gRPC only; the local dataset files are read just to send
 * test images as PNG, as any client would.
 *
 * <p>Usage: {@code Demo [--target host:port] [--quick] [--data DIR] [--json FILE]}; {@code --json}
 * also writes every figure to a file, which is how the benchmark in bench/ records a run.
 */
public final class Demo {

    private static final String DATASET = "fashion-mnist";
    private static final long SEED = 42;
    private static final float LABELLED = 0.1f;

    private final TrainingGrpc.TrainingBlockingStub training;
    private final EvaluationGrpc.EvaluationBlockingStub evaluation;
    private final PredictionGrpc.PredictionBlockingStub prediction;
    private final ModelsGrpc.ModelsBlockingStub models;
    private final Map<String, Object> record = new LinkedHashMap<>();
    private final List<Map<String, Object>> jobs = new ArrayList<>();

    private Demo(ManagedChannel channel) {
        training = TrainingGrpc.newBlockingStub(channel);
        evaluation = EvaluationGrpc.newBlockingStub(channel);
        prediction = PredictionGrpc.newBlockingStub(channel);
        models = ModelsGrpc.newBlockingStub(channel);
    }

    /**
     * How much of the data and how many epochs; quick fits in a few minutes on 2 cores. The student
     * alone sees only its labelled tenth, so it gets ten times the epochs: the same number of
     * optimizer steps as the distilled student, which is the fair baseline.
     */
    record Plan(int trainLimit, int teacherEpochs, int studentEpochs) {
        static final Plan QUICK = new Plan(30_000, 3, 10);
        static final Plan FULL = new Plan(0, 15, 30);

        int aloneEpochs() {
            return Math.round(studentEpochs / LABELLED);
        }
    }

    public static void main(String[] args) throws Exception {
        String target = "localhost:8080";
        Plan plan = Plan.FULL;
        Path data = Path.of("/usr/share/datasets/fashion-mnist");
        Path json = null;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--target" -> target = args[++i];
                case "--quick" -> plan = Plan.QUICK;
                case "--data" -> data = Path.of(args[++i]);
                case "--json" -> json = Path.of(args[++i]);
                default -> throw new IllegalArgumentException("unknown argument " + args[i]
                        + "; usage: Demo [--target host:port] [--quick] [--data DIR] [--json FILE]");
            }
        }
        ManagedChannel channel = Channels.open(ServerConnection.plainText(target));
        try {
            Demo demo = new Demo(channel);
            demo.run(plan, data);
            if (json != null) {
                demo.writeJson(json);
            }
        } catch (StatusRuntimeException e) {
            System.err.printf("The server at %s answered %s: %s%n", target, e.getStatus().getCode(),
                    e.getStatus().getDescription());
            System.exit(1);
        } finally {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    private void run(Plan plan, Path data) throws IOException {
        record.put("plan", Map.of("train_limit", plan.trainLimit(), "teacher_epochs", plan.teacherEpochs(),
                "student_epochs", plan.studentEpochs(), "alone_epochs", plan.aloneEpochs(), "seed", SEED,
                "labelled_fraction", LABELLED));
        System.out.printf("Plan: %s images (a tenth held out for validation), seed %d; teacher %d epochs; "
                + "distilled student %d epochs over every image; student alone %d epochs over its labelled tenth "
                + "(the same number of optimizer steps)%n",
                plan.trainLimit() == 0 ? "all 60,000 training" : "the first " + plan.trainLimit() + " training",
                SEED, plan.teacherEpochs(), plan.studentEpochs(), plan.aloneEpochs());

        Architecture teacherNet = Architecture.newBuilder().setName("cnn")
                .addStages(stage(32, 32)).addStages(stage(64, 64))
                .addHidden(128).setBatchNorm(true).setDropout(0.3f).build();
        Architecture studentNet = Architecture.newBuilder().setName("cnn")
                .addStages(stage(8)).addStages(stage(16)).build();

        ModelRef teacher = train("1/3 teacher on all labels", recipe("fmnist-teacher", teacherNet, plan.teacherEpochs())
                .setData(data(plan, 1f)).build());
        ModelRef alone = train("2/3 student alone on 10% of the labels",
                recipe("fmnist-student-alone", studentNet, plan.aloneEpochs()).setData(data(plan, LABELLED)).build());
        Distillation kd = Distillation.newBuilder().setMethod("kd").setTemperature(FloatValue.of(3f)).setAlpha(FloatValue.of(0.7f)).build();
        ModelRef distilled = train("3/3 student distilled from the teacher (T 3, alpha 0.7), same 10% of the labels",
                recipe("fmnist-student-distilled", studentNet, plan.studentEpochs())
                        .setData(data(plan, LABELLED)).setTeacher(teacher).setDistillation(kd).build());

        EvaluateResponse report = evaluation.evaluate(EvaluateRequest.newBuilder()
                .addModels(teacher).addModels(alone).addModels(distilled)
                .setDataset(DATASET).setSplit("test").build());
        List<String> roles = List.of("teacher", "student alone", "student distilled");
        printTable(report, roles);
        record.put("jobs", jobs);
        record.put("evaluation", evaluationRows(report, roles));
        predictThree(distilled, data);
    }

    private static ConvStage stage(int... channels) {
        ConvStage.Builder stage = ConvStage.newBuilder();
        for (int c : channels) {
            stage.addChannels(c);
        }
        return stage.build();
    }

    private static Recipe.Builder recipe(String output, Architecture net, int epochs) {
        return Recipe.newBuilder().setOutputModel(output).setStudent(net).setEpochs(epochs).setBatchSize(128).setSeed(SEED);
    }

    private static DataSpec data(Plan plan, float labelled) {
        return DataSpec.newBuilder().setDataset(DATASET).setTrainLimit(plan.trainLimit())
                .setValidationFraction(FloatValue.of(0.1f)).setLabelledFraction(FloatValue.of(labelled)).build();
    }

    /** Submits a recipe and prints its events until it ends; returns the model it made. */
    private ModelRef train(String title, Recipe recipe) {
        System.out.printf("%n== %s: %s%n", title, recipe.getOutputModel());
        Iterator<JobEvent> events = training.train(TrainRequest.newBuilder().setRecipe(recipe).build());
        List<Double> imagesPerSecond = new ArrayList<>();
        while (events.hasNext()) {
            JobEvent event = events.next();
            System.out.println("  " + ProgressLines.of(event));
            switch (event.getEventCase()) {
                case EPOCH -> imagesPerSecond.add(event.getEpoch().getImagesPerSecond());
                case FINISHED -> {
                    ModelRef model = event.getFinished().getModel();
                    jobs.add(Map.of("model", model.getName(), "version", model.getVersion(),
                            "epochs", recipe.getEpochs(), "seconds", event.getFinished().getSeconds(),
                            "validation_accuracy", event.getFinished().getValidationAccuracy(),
                            "images_per_second_by_epoch", imagesPerSecond));
                    return model;
                }
                case FAILED -> throw new IllegalStateException("job failed: " + event.getFailed().getMessage());
                case CANCELLED -> throw new IllegalStateException("job was cancelled");
                default -> { }
            }
        }
        throw new IllegalStateException("the event stream ended before the job did");
    }

    private static void printTable(EvaluateResponse report, List<String> roles) {
        System.out.print(System.lineSeparator() + EvaluationTable.render(report, roles));
        double gain = 100 * (report.getResults(2).getTop1Accuracy() - report.getResults(1).getTop1Accuracy());
        System.out.printf("Distilled minus alone: %+.2f points (measured, not tuned: it can be negative)%n", gain);
    }

    private static List<Map<String, Object>> evaluationRows(EvaluateResponse report, List<String> roles) {
        List<Map<String, Object>> rows = new ArrayList<>();
        for (int i = 0; i < report.getResultsCount(); i++) {
            ModelEvaluation row = report.getResults(i);
            rows.add(Map.of("role", roles.get(i), "model", row.getModel().getName(),
                    "version", row.getModel().getVersion(), "parameters", row.getParameters(),
                    "test_images", report.getImages(), "top1_accuracy", row.getTop1Accuracy(),
                    "latency_p50_ms", row.getLatencyP50Ms(), "latency_p99_ms", row.getLatencyP99Ms()));
        }
        return rows;
    }

    private void writeJson(Path file) throws IOException {
        new ObjectMapper().writerWithDefaultPrettyPrinter().writeValue(file.toFile(), record);
    }

    private void predictThree(ModelRef model, Path data) throws IOException {
        ImageSet test = IdxReader.readSplit(data, "test");
        List<String> labels = models.getModel(GetModelRequest.newBuilder().setModel(model).build()).getLabelsList();
        PredictRequest.Builder request = PredictRequest.newBuilder().setModel(model).setTopK(3);
        int[] picks = {0, 1, 2};
        for (int i : picks) {
            request.addInputs(Input.newBuilder().setImage(png(test, i)));
        }
        PredictResponse response = prediction.predict(request.build());
        System.out.printf("%nPredict on %s/%d, three test images sent as PNG:%n", response.getModel().getName(),
                response.getModel().getVersion());
        for (int i = 0; i < picks.length; i++) {
            Classification c = response.getClassifications(i);
            StringBuilder line = new StringBuilder(String.format("  test image %d (truly %s):", picks[i],
                    labels.get(test.labels()[picks[i]])));
            for (ClassScore score : c.getTopList()) {
                line.append(String.format("  %s %.1f %%", score.getLabel(), 100 * score.getProbability()));
            }
            System.out.println(line);
        }
    }

    private static ByteString png(ImageSet images, int index) throws IOException {
        BufferedImage image = new BufferedImage(images.width(), images.height(), BufferedImage.TYPE_BYTE_GRAY);
        int offset = index * images.imageSize();
        for (int y = 0; y < images.height(); y++) {
            for (int x = 0; x < images.width(); x++) {
                image.getRaster().setSample(x, y, 0, images.pixels()[offset + y * images.width() + x] & 0xff);
            }
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(image, "png", out);
        return ByteString.copyFrom(out.toByteArray());
    }
}

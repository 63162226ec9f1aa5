package dev.distillery.distill;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.google.protobuf.FloatValue;
import com.google.protobuf.Int32Value;
import dev.distillery.data.CifarReader;
import dev.distillery.data.DatasetConfig;
import dev.distillery.data.Datasets;
import dev.distillery.data.ImageSet;
import dev.distillery.error.DistilleryException;
import dev.distillery.model.ArchitectureCatalogue;
import dev.distillery.store.ModelStore;
import dev.distillery.v1.Architecture;
import dev.distillery.v1.DataSpec;
import dev.distillery.v1.Distillation;
import dev.distillery.v1.EarlyStopping;
import dev.distillery.v1.ModelInfo;
import dev.distillery.v1.ModelRef;
import dev.distillery.v1.OptimizerSpec;
import dev.distillery.v1.Recipe;
import dev.distillery.v1.Schedule;
import dev.distillery.v1.Sweep;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.stream.IntStream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The training rules of recipe resolution: defaults filled in, and every rejection's message. */
class RecipesTest {

    @TempDir
    Path folder;

    private Recipes recipes;

    @BeforeEach
    void setUp() throws IOException {
        Path data = Files.createDirectories(folder.resolve("patches"));
        writeIdx(data, SyntheticPatches.images(50, 1));
        List<String> labels = IntStream.range(0, SyntheticPatches.CLASSES).mapToObj(c -> "class " + c).toList();
        Datasets datasets = new Datasets(List.of(
                new DatasetConfig("patches", "idx", data, labels, Optional.empty(), CifarReader.FINE)));
        ModelStore store = new ModelStore(folder.resolve("models"));
        store.add("teacher", new byte[] {1}, ModelInfo.newBuilder().addAllLabels(labels)
                .addAllInputShape(List.of(1L, (long) SyntheticPatches.SIDE, (long) SyntheticPatches.SIDE)).build());
        recipes = new Recipes(datasets, store, ArchitectureCatalogue.standard());
    }

    @Test
    void fillsEveryTrainingDefault() {
        Recipe resolved = recipes.resolve(taught().build());

        assertEquals(Distillation.newBuilder().setMethod("kd").setTemperature(FloatValue.of(3))
                .setAlpha(FloatValue.of(0.7f)).build(), resolved.getDistillation());
        assertEquals(OptimizerSpec.newBuilder().setName("adamw").setLearningRate(FloatValue.of(1e-3f))
                .setWeightDecay(FloatValue.of(0.01f)).build(), resolved.getOptimizer());
        assertEquals(Schedule.newBuilder().setName("constant").build(), resolved.getSchedule());
        assertEquals(0f, resolved.getLabelSmoothing());
        assertEquals(0, resolved.getEarlyStopping().getPatience());
        assertEquals(0f, recipes.resolve(alone().build()).getDistillation().getAlpha().getValue());
    }

    @Test
    void fillsTheDefaultsOfDkdSgdAndStep() {
        Recipe resolved = recipes.resolve(taught()
                .setDistillation(Distillation.newBuilder().setMethod("dkd"))
                .setOptimizer(OptimizerSpec.newBuilder().setName("sgd").setNesterov(true))
                .setSchedule(Schedule.newBuilder().setName("step").addMilestones(5).setWarmupEpochs(1))
                .build());

        assertEquals(Distillation.newBuilder().setMethod("dkd").setTemperature(FloatValue.of(4))
                .setAlpha(FloatValue.of(1)).setBeta(FloatValue.of(8)).setWarmupEpochs(Int32Value.of(20)).build(),
                resolved.getDistillation());
        assertEquals(OptimizerSpec.newBuilder().setName("sgd").setLearningRate(FloatValue.of(0.05f))
                .setWeightDecay(FloatValue.of(5e-4f)).setMomentum(FloatValue.of(0.9f)).setNesterov(true).build(),
                resolved.getOptimizer());
        assertEquals(Schedule.newBuilder().setName("step").addMilestones(5).setWarmupEpochs(1)
                .setGamma(FloatValue.of(0.1f)).build(), resolved.getSchedule());
    }

    @Test
    void keepsASweepAndFillsTheSettingItVaries() {
        Recipe resolved = recipes.resolve(taught().setDistillation(Distillation.newBuilder()
                .setSweep(Sweep.newBuilder().addTemperatures(2).addTemperatures(4))).build());

        assertEquals(List.of(2f, 4f), resolved.getDistillation().getSweep().getTemperaturesList());
        assertEquals(0.7f, resolved.getDistillation().getAlpha().getValue());
        assertEquals(List.of("T=2 alpha=0.7", "T=4 alpha=0.7"),
                SweepRun.settings(resolved.getDistillation()).stream().map(SweepRun::label).toList());
    }

    @Test
    void rejectsBadDistillationSettings() {
        assertRejected("distillation.method 'foo' is unknown; known methods: [dkd, kd]",
                taught().setDistillation(Distillation.newBuilder().setMethod("foo")));
        assertRejected("distillation.temperature must be > 0, got 0.0",
                taught().setDistillation(Distillation.newBuilder().setTemperature(FloatValue.of(0))));
        assertRejected("distillation.beta must be >= 0, got -1.0", taught().setDistillation(
                Distillation.newBuilder().setMethod("dkd").setBeta(FloatValue.of(-1))));
        assertRejected("distillation.beta is 8.0 but kd has no beta (it weighs its terms with alpha); beta is for dkd",
                taught().setDistillation(Distillation.newBuilder().setBeta(FloatValue.of(8))));
        assertRejected("distillation kd T=3 alpha=0.5 learns from a teacher but the recipe names no teacher: "
                        + "set recipe.teacher, or use method kd with alpha 0 to train on labels alone",
                alone().setDistillation(Distillation.newBuilder().setAlpha(FloatValue.of(0.5f))));
        assertRejected("distillation dkd T=4 alpha=1 learns from a teacher but the recipe names no teacher: "
                        + "set recipe.teacher, or use method kd with alpha 0 to train on labels alone",
                alone().setDistillation(Distillation.newBuilder().setMethod("dkd")));
    }

    @Test
    void rejectsBadSweeps() {
        Distillation.Builder sweep = Distillation.newBuilder().setSweep(Sweep.newBuilder().addTemperatures(2).addTemperatures(4));
        assertRejected("distillation.sweep tries settings of the teacher's term but the recipe names no teacher: set recipe.teacher",
                alone().setDistillation(sweep));
        assertRejected("distillation.sweep keeps the setting with the best validation accuracy, but "
                        + "data.validation_fraction is 0: hold out some images",
                taught().setDistillation(sweep).setData(data().setValidationFraction(FloatValue.of(0))));
        assertRejected("distillation.sweep setting T=2 alpha=1.5: distillation.alpha must be in [0, 1], got 1.5",
                taught().setDistillation(sweep.clone().setSweep(Sweep.newBuilder().addTemperatures(2).addAlphas(1.5f))));
        assertRejected("distillation.sweep setting T=-1 alpha=0.7: distillation.temperature must be > 0, got -1.0",
                taught().setDistillation(sweep.clone().setSweep(Sweep.newBuilder().addTemperatures(2).addTemperatures(-1))));
        assertRejected("distillation.sweep.alphas lists a value twice: [0.5, 0.5]",
                taught().setDistillation(sweep.clone().setSweep(Sweep.newBuilder().addAlphas(0.5f).addAlphas(0.5f))));
    }

    @Test
    void rejectsBadOptimizers() {
        assertRejected("optimizer.name 'adam' is unknown; known optimizers: [adamw, sgd]",
                alone().setOptimizer(OptimizerSpec.newBuilder().setName("adam")));
        assertRejected("optimizer.learning_rate must be > 0, got 0.0",
                alone().setOptimizer(OptimizerSpec.newBuilder().setName("sgd").setLearningRate(FloatValue.of(0))));
        assertRejected("optimizer.weight_decay must be >= 0, got -1.0",
                alone().setOptimizer(OptimizerSpec.newBuilder().setWeightDecay(FloatValue.of(-1))));
        assertRejected("optimizer.momentum and optimizer.nesterov are for sgd; adamw keeps its own moment estimates",
                alone().setOptimizer(OptimizerSpec.newBuilder().setMomentum(FloatValue.of(0.9f))));
        assertRejected("optimizer.momentum must be in [0, 1), got 1.0",
                alone().setOptimizer(OptimizerSpec.newBuilder().setName("sgd").setMomentum(FloatValue.of(1))));
        assertRejected("optimizer.nesterov needs optimizer.momentum > 0, got 0", alone().setOptimizer(
                OptimizerSpec.newBuilder().setName("sgd").setMomentum(FloatValue.of(0)).setNesterov(true)));
    }

    @Test
    void rejectsBadSchedules() {
        assertRejected("schedule.name 'linear' is unknown; known schedules: [constant, cosine, step]",
                alone().setSchedule(Schedule.newBuilder().setName("linear")));
        assertRejected("schedule.warmup_epochs must be in [0, 9] (below recipe.epochs), got 10",
                alone().setSchedule(Schedule.newBuilder().setName("cosine").setWarmupEpochs(10)));
        assertRejected("schedule.milestones and schedule.gamma are for the step schedule, not cosine",
                alone().setSchedule(Schedule.newBuilder().setName("cosine").addMilestones(3)));
        assertRejected("schedule.milestones is empty: step needs the epochs after which the rate drops",
                alone().setSchedule(Schedule.newBuilder().setName("step")));
        assertRejected("schedule.milestones must be increasing epochs in [1, 9] (after which the rate drops), got [5, 3]",
                alone().setSchedule(Schedule.newBuilder().setName("step").addMilestones(5).addMilestones(3)));
        assertRejected("schedule.milestones must be increasing epochs in [1, 9] (after which the rate drops), got [10]",
                alone().setSchedule(Schedule.newBuilder().setName("step").addMilestones(10)));
        assertRejected("schedule.gamma must be in (0, 1], got 0.0", alone().setSchedule(
                Schedule.newBuilder().setName("step").addMilestones(3).setGamma(FloatValue.of(0))));
    }

    @Test
    void rejectsBadSmoothingAndPatience() {
        assertRejected("recipe.label_smoothing must be in [0, 1) (0 = none), got 1.0", alone().setLabelSmoothing(1));
        assertRejected("recipe.label_smoothing must be in [0, 1) (0 = none), got -0.1", alone().setLabelSmoothing(-0.1f));
        assertRejected("recipe.early_stopping.patience must be >= 0 (0 = off), got -1",
                alone().setEarlyStopping(EarlyStopping.newBuilder().setPatience(-1)));
        assertRejected("recipe.early_stopping.patience is 3 but data.validation_fraction is 0: "
                        + "there is no validation accuracy to watch",
                alone().setEarlyStopping(EarlyStopping.newBuilder().setPatience(3))
                        .setData(data().setValidationFraction(FloatValue.of(0))));
        Recipe accepted = recipes.resolve(alone().setLabelSmoothing(0.1f)
                .setEarlyStopping(EarlyStopping.newBuilder().setPatience(3)).build());
        assertEquals(0.1f, accepted.getLabelSmoothing());
        assertEquals(3, accepted.getEarlyStopping().getPatience());
    }

    private void assertRejected(String message, Recipe.Builder recipe) {
        DistilleryException e = assertThrows(DistilleryException.class, () -> recipes.resolve(recipe.build()));
        assertEquals(DistilleryException.Kind.INVALID_ARGUMENT, e.kind());
        assertEquals(message, e.getMessage());
    }

    private static DataSpec.Builder data() {
        return DataSpec.newBuilder().setDataset("patches");
    }

    /** Ten epochs of an mlp on the patches, without a teacher. */
    private static Recipe.Builder alone() {
        return Recipe.newBuilder().setOutputModel("student").setEpochs(10).setData(data())
                .setStudent(Architecture.newBuilder().setName("mlp").addHidden(16));
    }

    private static Recipe.Builder taught() {
        return alone().setTeacher(ModelRef.newBuilder().setName("teacher"));
    }

    /** The train split as uncompressed IDX files. */
    private static void writeIdx(Path folder, ImageSet images) throws IOException {
        try (DataOutputStream out = new DataOutputStream(Files.newOutputStream(folder.resolve("train-images-idx3-ubyte")))) {
            out.writeInt(0x00000803);
            out.writeInt(images.count());
            out.writeInt(images.height());
            out.writeInt(images.width());
            out.write(images.pixels());
        }
        try (DataOutputStream out = new DataOutputStream(Files.newOutputStream(folder.resolve("train-labels-idx1-ubyte")))) {
            out.writeInt(0x00000801);
            out.writeInt(images.count());
            for (int label : images.labels()) {
                out.writeByte(label);
            }
        }
    }
}

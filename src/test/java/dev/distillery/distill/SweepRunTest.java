package dev.distillery.distill;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.distillery.data.Normalization;
import dev.distillery.data.TrainingSplit;
import dev.distillery.model.ArchitectureSpec;
import dev.distillery.model.Layer;
import dev.distillery.model.Network;
import dev.distillery.v1.Distillation;
import dev.distillery.v1.Recipe;
import dev.distillery.v1.Sweep;
import dev.distillery.v1.TrialResult;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SweepRunTest {

    private static final int CLASSES = SyntheticPatches.CLASSES;
    private static final int SIDE = SyntheticPatches.SIDE;

    private static final Network MLP = new Network(
            new ArchitectureSpec("mlp", List.of(32), List.of(), false, 0), 1, SIDE, SIDE, CLASSES,
            List.of(new Layer.Flatten(), new Layer.Dense(SIDE * SIDE, 32), new Layer.Relu(),
                    new Layer.Dense(32, CLASSES)));

    private static final TrainingSplit SPLIT = TrainingSplit.of(SyntheticPatches.images(600, 1), 0, 0.2f, 0.1f, 2);

    @Test
    void settingsAreTemperatureMajorAndNamedShortly() {
        Distillation grid = Fixtures.kd(3, 0.7f).toBuilder().setSweep(Sweep.newBuilder()
                .addTemperatures(2).addTemperatures(2.5f).addAlphas(0.5f).addAlphas(0.9f)).build();

        List<String> labels = SweepRun.settings(grid).stream().map(SweepRun::label).toList();

        assertEquals(List.of("T=2 alpha=0.5", "T=2 alpha=0.9", "T=2.5 alpha=0.5", "T=2.5 alpha=0.9"), labels);
        assertFalse(SweepRun.settings(grid).get(0).hasSweep());
        Distillation temperaturesOnly = Fixtures.kd(3, 0.7f).toBuilder()
                .setSweep(Sweep.newBuilder().addTemperatures(4)).build();
        assertEquals(List.of("T=4 alpha=0.7"), SweepRun.settings(temperaturesOnly).stream().map(SweepRun::label).toList());
        assertEquals(List.of("T=3 alpha=0.7"), SweepRun.settings(Fixtures.kd(3, 0.7f)).stream().map(SweepRun::label).toList());
        assertTrue(SweepRun.isSweep(temperaturesOnly));
        assertFalse(SweepRun.isSweep(Fixtures.kd(3, 0.7f)));
    }

    @Test
    void triesEverySettingAndKeepsTheBest(@TempDir Path work) {
        Recipe recipe = recipe(3);
        List<String> epochLabels = new ArrayList<>();
        List<TrialResult> reported = new ArrayList<>();

        SweepRun.Outcome outcome = new SweepRun(recipe, TrainingDevice.CPU, new CheckpointFile(work))
                .run(MLP, data(), SweepProgress.START, listener(epochLabels, reported), () -> false);

        assertEquals(List.of("T=2 alpha=0.7", "T=2 alpha=0.7", "T=2 alpha=0.7",
                "T=4 alpha=0.7", "T=4 alpha=0.7", "T=4 alpha=0.7"), epochLabels);
        assertEquals(List.of(2f, 4f), reported.stream().map(TrialResult::getTemperature).toList());
        assertTrue(reported.stream().noneMatch(TrialResult::getChosen), "chosen is known only at the end");
        assertEquals(2, outcome.trials().size());
        int best = outcome.trials().get(1).getBestValidationAccuracy()
                > outcome.trials().get(0).getBestValidationAccuracy() ? 1 : 0;
        for (int i = 0; i < 2; i++) {
            TrialResult trial = outcome.trials().get(i);
            assertEquals(i == best, trial.getChosen(), outcome.trials().toString());
            assertEquals(reported.get(i), trial.toBuilder().setChosen(false).build());
            assertEquals(3, trial.getEpochsRun());
            assertTrue(trial.getBestEpoch() >= 1 && trial.getBestEpoch() <= 3);
            assertTrue(trial.getBestValidationAccuracy() > 0.5, trial.toString());
        }
        TrialResult chosen = outcome.trials().get(best);
        assertEquals(chosen.getBestValidationAccuracy(), outcome.chosen().best().validationAccuracy());
        assertEquals(chosen.getBestEpoch(), outcome.chosen().best().epoch());
        assertTrue(outcome.chosen().onnx().length > 0);

        SweepProgress saved = new CheckpointFile(work).load().orElseThrow();
        assertEquals(reported, saved.trials());
        assertNull(saved.current());
    }

    @Test
    void anInterruptedSweepResumesAndEndsTheSame(@TempDir Path straightWork, @TempDir Path work) {
        Recipe recipe = recipe(2);
        SweepRun.Outcome straight = new SweepRun(recipe, TrainingDevice.CPU, new CheckpointFile(straightWork))
                .run(MLP, data(), SweepProgress.START, listener(new ArrayList<>(), new ArrayList<>()), () -> false);

        CheckpointFile checkpoints = new CheckpointFile(work);
        SweepRun.Listener stopInTheSecondSetting = new SweepRun.Listener() {
            @Override
            public void onEpoch(String trial, EpochStats stats) {
                if (trial.startsWith("T=4") && stats.epoch() == 1) {
                    throw new IllegalStateException("the server stops here");
                }
            }

            @Override
            public void onTrial(TrialResult result) {}
        };
        assertThrows(IllegalStateException.class, () -> new SweepRun(recipe, TrainingDevice.CPU, checkpoints)
                .run(MLP, data(), SweepProgress.START, stopInTheSecondSetting, () -> false));
        SweepProgress saved = checkpoints.load().orElseThrow();
        assertEquals(1, saved.trials().size());
        assertEquals(1, saved.current().epoch());

        List<String> epochLabels = new ArrayList<>();
        SweepRun.Outcome resumed = new SweepRun(recipe, TrainingDevice.CPU, checkpoints)
                .run(MLP, data(), saved, listener(epochLabels, new ArrayList<>()), () -> false);

        assertEquals(List.of("T=4 alpha=0.7"), epochLabels, "only the second setting's last epoch runs again");
        assertEquals(straight.trials(), resumed.trials());
        assertArrayEquals(straight.chosen().onnx(), resumed.chosen().onnx());
    }

    /** A resolved recipe sweeping T over 2 and 4 at alpha 0.7. */
    private static Recipe recipe(int epochs) {
        return Recipe.newBuilder().setEpochs(epochs).setBatchSize(32).setSeed(7)
                .setDistillation(Fixtures.kd(3, 0.7f).toBuilder()
                        .setSweep(Sweep.newBuilder().addTemperatures(2).addTemperatures(4)))
                .setOptimizer(Fixtures.adamw(0.01f))
                .setSchedule(Fixtures.CONSTANT)
                .setLabelSmoothing(0.05f)
                .build();
    }

    private static StudentData data() {
        return new InMemoryStudentData(SPLIT.train(), SyntheticPatches.teacherLogits(SPLIT.train()), SPLIT.validation(),
                Normalization.fit(SPLIT.train()), CLASSES, 7);
    }

    private static SweepRun.Listener listener(List<String> epochLabels, List<TrialResult> trials) {
        return new SweepRun.Listener() {
            @Override
            public void onEpoch(String trial, EpochStats stats) {
                epochLabels.add(trial);
            }

            @Override
            public void onTrial(TrialResult result) {
                trials.add(result);
            }
        };
    }
}

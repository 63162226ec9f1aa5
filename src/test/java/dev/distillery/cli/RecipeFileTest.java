package dev.distillery.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.distillery.error.DistilleryException;
import dev.distillery.v1.Recipe;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

class RecipeFileTest {

    @Test
    void everyRecipeInTheRecipesFolderParses() throws IOException {
        List<Path> files;
        try (Stream<Path> listing = Files.list(Path.of("recipes"))) {
            files = listing.filter(file -> file.toString().endsWith(".yaml")).sorted().toList();
        }
        assertTrue(files.size() >= 6, "recipes/ holds the worked examples: " + files);
        for (Path file : files) {
            Recipe recipe = RecipeFile.read(file);
            assertFalse(recipe.getOutputModel().isEmpty(), file + " names its output model");
            assertTrue(recipe.getEpochs() > 0, file + " sets epochs");
            assertFalse(recipe.getStudent().getName().isEmpty(), file + " names the student's architecture");
            assertFalse(recipe.getData().getDataset().isEmpty(), file + " names a dataset");
        }
    }

    @Test
    void theWorkedExamplesSayWhatTheyShow() throws IOException {
        Recipe teacher = RecipeFile.read(Path.of("recipes/reference-teacher.yaml"));
        assertEquals(2, teacher.getStudent().getStagesCount());
        assertEquals(List.of(32, 32), teacher.getStudent().getStages(0).getChannelsList());
        assertEquals(0.3f, teacher.getStudent().getDropout());
        assertFalse(teacher.hasTeacher());

        Recipe transfer = RecipeFile.read(Path.of("recipes/transfer-set.yaml"));
        assertEquals(0.1f, transfer.getData().getLabelledFraction().getValue());
        assertEquals("fmnist-teacher", transfer.getTeacher().getName());

        Recipe dkd = RecipeFile.read(Path.of("recipes/dkd.yaml"));
        assertEquals("dkd", dkd.getDistillation().getMethod());
        assertEquals(8f, dkd.getDistillation().getBeta().getValue());
        assertEquals(5, dkd.getDistillation().getWarmupEpochs().getValue());
        assertEquals(5.0e-4f, dkd.getOptimizer().getWeightDecay().getValue());

        Recipe sweep = RecipeFile.read(Path.of("recipes/sweep.yaml"));
        assertEquals(List.of(2f, 3f, 4f), sweep.getDistillation().getSweep().getTemperaturesList());
        assertEquals(List.of(0.5f, 0.7f, 0.9f), sweep.getDistillation().getSweep().getAlphasList());

        Recipe uploaded = RecipeFile.read(Path.of("recipes/uploaded-teacher.yaml"));
        assertEquals("fashion-mnist-png", uploaded.getData().getDataset());
        assertEquals(28, uploaded.getStudentInput().getHeight());
        assertEquals("gray", uploaded.getStudentInput().getPreprocessing().getColor());
        assertTrue(uploaded.getData().getAugmentation().getHorizontalFlip());
    }

    @Test
    void wrapperFieldsTakePlainNumbersAndUnsetStaysUnset() {
        Recipe recipe = RecipeFile.parse("""
                output_model: s
                epochs: 2
                distillation: {temperature: 3, alpha: 0}
                """, "inline.yaml");
        assertEquals(3f, recipe.getDistillation().getTemperature().getValue());
        // alpha 0 is set, not the default: the wrapper is present with its zero.
        assertTrue(recipe.getDistillation().hasAlpha());
        assertEquals(0f, recipe.getDistillation().getAlpha().getValue());
        assertFalse(recipe.getDistillation().hasBeta());
    }

    @Test
    void camelCaseNamesWorkToo() {
        Recipe recipe = RecipeFile.parse("outputModel: s\nbatchSize: 64\n", "inline.yaml");
        assertEquals("s", recipe.getOutputModel());
        assertEquals(64, recipe.getBatchSize());
    }

    @Test
    void anUnknownKeyIsNamedWithTheFileAndTheFieldsThatExist() {
        DistilleryException error = assertThrows(DistilleryException.class, () -> RecipeFile.parse("""
                output_model: s
                distillation:
                  method: kd
                  tempreature: 3
                """, "typo.yaml"));
        assertEquals(DistilleryException.Kind.INVALID_ARGUMENT, error.kind());
        assertTrue(error.getMessage().startsWith("typo.yaml: "), error.getMessage());
        assertTrue(error.getMessage().startsWith("typo.yaml: distillation: unknown key 'tempreature'; "
                + "Distillation's fields are method, temperature, alpha, beta"), error.getMessage());
        assertFalse(error.getMessage().contains("\n"), error.getMessage());
    }

    @Test
    void anUnknownKeyAtTheTopIsNamed() {
        DistilleryException error = assertThrows(DistilleryException.class,
                () -> RecipeFile.parse("output_model: s\nepoch: 3\n", "top.yaml"));
        assertTrue(error.getMessage().startsWith("top.yaml: unknown key 'epoch'; Recipe's fields are output_model,"),
                error.getMessage());
    }

    @Test
    void aValueOfTheWrongTypeIsAnError() {
        DistilleryException words = assertThrows(DistilleryException.class,
                () -> RecipeFile.parse("output_model: s\nepochs: ten\n", "type.yaml"));
        assertTrue(words.getMessage().startsWith("type.yaml: epochs should be an int32: "), words.getMessage());
        assertTrue(words.getMessage().contains("ten"), words.getMessage());

        DistilleryException scalarForMessage = assertThrows(DistilleryException.class,
                () -> RecipeFile.parse("output_model: s\nstudent: cnn\n", "type.yaml"));
        assertTrue(scalarForMessage.getMessage().startsWith("type.yaml: student should be a mapping of Architecture "
                + "fields: "), scalarForMessage.getMessage());

        DistilleryException nested = assertThrows(DistilleryException.class,
                () -> RecipeFile.parse("distillation: {method: kd, temperature: hot}\n", "type.yaml"));
        assertTrue(nested.getMessage().startsWith("type.yaml: distillation.temperature should be a float: "),
                nested.getMessage());

        DistilleryException inList = assertThrows(DistilleryException.class,
                () -> RecipeFile.parse("student: {stages: [{channels: [8]}, {channels: x}]}\n", "type.yaml"));
        assertTrue(inList.getMessage().startsWith("type.yaml: student.stages[1].channels should be a list, each an "
                + "int32: "), inList.getMessage());
    }

    @Test
    void brokenYamlGivesTheLineAndColumn() {
        DistilleryException error = assertThrows(DistilleryException.class,
                () -> RecipeFile.parse("output_model: s\nstudent: {name: cnn\nepochs: 3\n", "broken.yaml"));
        assertTrue(error.getMessage().matches("broken\\.yaml:\\d+:\\d+: not valid YAML: .+"), error.getMessage());
        assertFalse(error.getMessage().contains("\n"), error.getMessage());
    }

    @Test
    void aDuplicateKeyIsAnError() {
        DistilleryException error = assertThrows(DistilleryException.class,
                () -> RecipeFile.parse("epochs: 3\nepochs: 4\n", "twice.yaml"));
        assertTrue(error.getMessage().contains("epochs"), error.getMessage());
    }

    @Test
    void aRecipeIsAMapping() {
        assertThrows(DistilleryException.class, () -> RecipeFile.parse("", "empty.yaml"));
        DistilleryException list = assertThrows(DistilleryException.class, () -> RecipeFile.parse("- 1\n- 2\n", "list.yaml"));
        assertTrue(list.getMessage().contains("not a list"), list.getMessage());
    }
}

package dev.distillery.distill;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.FloatValue;
import dev.distillery.data.CifarReader;
import dev.distillery.data.DatasetConfig;
import dev.distillery.data.Datasets;
import dev.distillery.error.DistilleryException;
import dev.distillery.model.ArchitectureCatalogue;
import dev.distillery.store.ModelStore;
import dev.distillery.v1.Architecture;
import dev.distillery.v1.Augmentation;
import dev.distillery.v1.DataSpec;
import dev.distillery.v1.ModelInfo;
import dev.distillery.v1.ModelRef;
import dev.distillery.v1.Preprocessing;
import dev.distillery.v1.RandomResizedCrop;
import dev.distillery.v1.Recipe;
import dev.distillery.v1.StudentInput;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.function.UnaryOperator;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The data half of recipe resolution: the student's input and the augmentation. */
class RecipeDataValidationTest {

    @TempDir
    Path dir;

    private Recipes recipes;

    @BeforeEach
    void setUp() throws IOException {
        Path idx = Files.createDirectories(dir.resolve("idx"));
        ByteArrayOutputStream images = new ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(images);
        out.writeInt(0x803);
        out.writeInt(2);
        out.writeInt(6);
        out.writeInt(5);
        out.write(new byte[2 * 6 * 5]);
        Files.write(idx.resolve("train-images-idx3-ubyte"), images.toByteArray());
        ByteArrayOutputStream labels = new ByteArrayOutputStream();
        out = new DataOutputStream(labels);
        out.writeInt(0x801);
        out.writeInt(2);
        out.write(new byte[] {0, 1});
        Files.write(idx.resolve("train-labels-idx1-ubyte"), labels.toByteArray());

        Path folder = dir.resolve("folder");
        for (String file : List.of("train/a/1.png", "train/b/2.png")) {
            Files.createDirectories(folder.resolve(file).getParent());
        }
        ImageIO.write(new BufferedImage(8, 8, BufferedImage.TYPE_INT_RGB), "png", folder.resolve("train/a/1.png").toFile());
        ImageIO.write(new BufferedImage(9, 8, BufferedImage.TYPE_INT_RGB), "png", folder.resolve("train/b/2.png").toFile());

        Datasets datasets = new Datasets(List.of(
                new DatasetConfig("tiny", "idx", idx, List.of("zero", "one"), Optional.empty(), CifarReader.FINE),
                new DatasetConfig("mixed", "imagefolder", folder, List.of(), Optional.empty(), CifarReader.FINE)));
        ModelStore store = new ModelStore(dir.resolve("store"));
        // A teacher of another size and colour than the dataset's: its inputs follow its own model.json.
        store.add("rgb-teacher", new byte[] {1}, ModelInfo.newBuilder().addLabels("zero").addLabels("one")
                .addInputShape(3).addInputShape(32).addInputShape(32)
                .setPreprocessing(Preprocessing.newBuilder().setColor("rgb")).build());
        recipes = new Recipes(datasets, store, ArchitectureCatalogue.standard());
    }

    private static Recipe.Builder recipe(String dataset) {
        return Recipe.newBuilder().setOutputModel("out").setEpochs(1)
                .setStudent(Architecture.newBuilder().setName("mlp").addHidden(4))
                .setData(DataSpec.newBuilder().setDataset(dataset));
    }

    private Recipe resolve(String dataset, UnaryOperator<Recipe.Builder> change) {
        return recipes.resolve(change.apply(recipe(dataset)).build());
    }

    private void assertInvalid(String part, String dataset, UnaryOperator<Recipe.Builder> change) {
        DistilleryException e = assertThrows(DistilleryException.class, () -> resolve(dataset, change));
        assertEquals(DistilleryException.Kind.INVALID_ARGUMENT, e.kind(), e.getMessage());
        assertTrue(e.getMessage().contains(part), "'" + e.getMessage() + "' should mention '" + part + "'");
    }

    private static Augmentation.Builder crop(RandomResizedCrop.Builder crop) {
        return Augmentation.newBuilder().setRandomResizedCrop(crop);
    }

    @Test
    void theStudentInputDefaultsToTheDatasetsSizeAndColour() {
        StudentInput input = resolve("tiny", r -> r).getStudentInput();
        assertEquals(List.of(6, 5), List.of(input.getHeight(), input.getWidth()));
        assertEquals("gray", input.getPreprocessing().getColor());
        assertEquals(0, input.getPreprocessing().getMeanCount(), "mean and std are left to be fitted");

        StudentInput given = resolve("mixed", r -> r.setStudentInput(StudentInput.newBuilder().setHeight(7).setWidth(7)))
                .getStudentInput();
        assertEquals("rgb", given.getPreprocessing().getColor());
    }

    @Test
    void aTeacherOfAnotherSizeAndColourIsAccepted() {
        Recipe resolved = resolve("tiny", r -> r.setTeacher(ModelRef.newBuilder().setName("rgb-teacher")));
        assertEquals(1, resolved.getTeacher().getVersion());
    }

    @Test
    void badStudentInputsAreRejectedByField() {
        assertInvalid("holds images of different sizes: set recipe.student_input.height and width", "mixed", r -> r);
        assertInvalid("set both height and width", "tiny", r -> r.setStudentInput(StudentInput.newBuilder().setHeight(8)));
        assertInvalid("must be in [1, 1024]", "tiny",
                r -> r.setStudentInput(StudentInput.newBuilder().setHeight(5000).setWidth(8)));
        assertInvalid("center_crop needs resize >= the input's larger side (8), got resize 6", "tiny",
                r -> r.setStudentInput(StudentInput.newBuilder().setHeight(8).setWidth(8)
                        .setPreprocessing(Preprocessing.newBuilder().setResize(6).setCenterCrop(true))));
        assertInvalid("recipe.student_input.preprocessing.color must be 'gray' or 'rgb', got 'hsv'", "tiny",
                r -> r.setStudentInput(StudentInput.newBuilder().setPreprocessing(Preprocessing.newBuilder().setColor("hsv"))));
        assertInvalid("recipe.student_input.preprocessing.mean has 2 values", "tiny",
                r -> r.setStudentInput(StudentInput.newBuilder().setPreprocessing(Preprocessing.newBuilder()
                        .setColor("rgb").addMean(0.5f).addMean(0.5f).addStd(1f).addStd(1f))));
    }

    @Test
    void augmentationDefaultsAreFilledIn() {
        Augmentation augmentation = resolve("tiny", r -> r.setData(recipe("tiny").getDataBuilder()
                .setAugmentation(crop(RandomResizedCrop.newBuilder().setEnabled(true)).setHorizontalFlip(true))))
                .getData().getAugmentation();
        RandomResizedCrop crop = augmentation.getRandomResizedCrop();
        assertEquals(List.of(0.08f, 1f, 0.75f, 4f / 3), List.of(crop.getMinScale().getValue(),
                crop.getMaxScale().getValue(), crop.getMinRatio().getValue(), crop.getMaxRatio().getValue()));
        assertTrue(augmentation.getHorizontalFlip());
    }

    @Test
    void badAugmentationsAreRejectedByField() {
        assertInvalid("random_crop_padding must be in [0, 256]", "tiny", r -> r.setData(recipe("tiny").getDataBuilder()
                .setAugmentation(Augmentation.newBuilder().setRandomCropPadding(-1))));
        assertInvalid("random_crop_padding must be in [0, 256]", "tiny", r -> r.setData(recipe("tiny").getDataBuilder()
                .setAugmentation(Augmentation.newBuilder().setRandomCropPadding(257))));
        assertInvalid("0 < min_scale <= max_scale <= 1", "tiny", r -> r.setData(recipe("tiny").getDataBuilder()
                .setAugmentation(crop(RandomResizedCrop.newBuilder().setEnabled(true).setMaxScale(FloatValue.of(1.5f))))));
        assertInvalid("0 < min_scale <= max_scale <= 1", "tiny", r -> r.setData(recipe("tiny").getDataBuilder()
                .setAugmentation(crop(RandomResizedCrop.newBuilder().setEnabled(true).setMinScale(FloatValue.of(0f))))));
        assertInvalid("0 < min_ratio <= max_ratio", "tiny", r -> r.setData(recipe("tiny").getDataBuilder()
                .setAugmentation(crop(RandomResizedCrop.newBuilder().setEnabled(true)
                        .setMinRatio(FloatValue.of(2f)).setMaxRatio(FloatValue.of(1f))))));
        assertInvalid("enabled is false", "tiny", r -> r.setData(recipe("tiny").getDataBuilder()
                .setAugmentation(crop(RandomResizedCrop.newBuilder().setMinScale(FloatValue.of(0.5f))))));
    }
}

package dev.distillery.distill;

import com.google.protobuf.FloatValue;
import dev.distillery.data.Datasets;
import dev.distillery.data.ImageSet;
import dev.distillery.error.DistilleryException;
import dev.distillery.model.ArchitectureCatalogue;
import dev.distillery.model.ArchitectureSpec;
import dev.distillery.store.ModelStore;
import dev.distillery.v1.Architecture;
import dev.distillery.v1.ConvStage;
import dev.distillery.v1.DataSpec;
import dev.distillery.v1.Distillation;
import dev.distillery.v1.ModelInfo;
import dev.distillery.v1.OptimizerSpec;
import dev.distillery.v1.Recipe;
import java.util.List;
import java.util.Set;

/**
 * Checks a recipe and fills in its defaults, so that a job only starts from a recipe that can run
 * and the stored lineage says exactly what ran. Every rejection names the field, the value and what
 * would be accepted.
 */
public final class Recipes {

    public static final float DEFAULT_TEMPERATURE = 3f;
    public static final float DEFAULT_ALPHA_WITH_TEACHER = 0.7f;
    public static final int DEFAULT_BATCH = 128;
    public static final float DEFAULT_VALIDATION_FRACTION = 0.1f;
    public static final float DEFAULT_LEARNING_RATE = 1e-3f;
    public static final float DEFAULT_WEIGHT_DECAY = 0.01f;
    private static final int MAX_EPOCHS = 10_000;
    private static final int MAX_BATCH = 65_536;
    private static final Set<String> DEVICES = Set.of("auto", "cpu", "gpu");

    private final Datasets datasets;
    private final ModelStore store;
    private final ArchitectureCatalogue catalogue;

    public Recipes(Datasets datasets, ModelStore store, ArchitectureCatalogue catalogue) {
        this.datasets = datasets;
        this.store = store;
        this.catalogue = catalogue;
    }

    /** The recipe with every default filled in and the teacher pinned to a version; throws if it cannot run. */
    public Recipe resolve(Recipe recipe) {
        if (recipe.getOutputModel().isEmpty()) {
            throw DistilleryException.invalid("recipe.output_model is empty: name the model this run creates");
        }
        ModelStore.checkName(recipe.getOutputModel());
        if (recipe.getEpochs() <= 0 || recipe.getEpochs() > MAX_EPOCHS) {
            throw DistilleryException.invalid("recipe.epochs must be in [1, %d], got %d", MAX_EPOCHS, recipe.getEpochs());
        }
        if (recipe.getBatchSize() < 0 || recipe.getBatchSize() > MAX_BATCH) {
            throw DistilleryException.invalid("recipe.batch_size must be in [1, %d] (0 = default %d), got %d",
                    MAX_BATCH, DEFAULT_BATCH, recipe.getBatchSize());
        }
        String device = recipe.getDevice().isEmpty() ? "auto" : recipe.getDevice().toLowerCase();
        if (!DEVICES.contains(device)) {
            throw DistilleryException.invalid("recipe.device must be one of %s, got '%s'", DEVICES, recipe.getDevice());
        }
        Distillation distillation = distillation(recipe.getDistillation(), recipe.hasTeacher());
        OptimizerSpec optimizer = optimizer(recipe.getOptimizer());
        DataSpec data = data(recipe.getData());
        ImageSet train = datasets.load(data.getDataset(), "train");
        int classes = datasets.get(data.getDataset()).labels().size();
        Recipe.Builder resolved = recipe.toBuilder()
                .setBatchSize(recipe.getBatchSize() == 0 ? DEFAULT_BATCH : recipe.getBatchSize())
                .setDevice(device)
                .setData(data)
                .setDistillation(distillation)
                .setOptimizer(optimizer);
        if (recipe.hasTeacher()) {
            ModelInfo teacher = store.get(recipe.getTeacher());
            checkTeacher(teacher, train, classes);
            resolved.getTeacherBuilder().setVersion(teacher.getVersion());
        }
        // Building the network checks the architecture against this dataset's image size.
        catalogue.build(spec(recipe.getStudent()), train.channels(), train.height(), train.width(), classes);
        return resolved.build();
    }

    /** The catalogue's view of a proto architecture. */
    public static ArchitectureSpec spec(Architecture architecture) {
        List<List<Integer>> stages = architecture.getStagesList().stream().map(ConvStage::getChannelsList).toList();
        return new ArchitectureSpec(architecture.getName(), architecture.getHiddenList(), stages,
                architecture.getBatchNorm(), architecture.getDropout(), architecture.getDepth(),
                architecture.getWidthMultiplier());
    }

    private DataSpec data(DataSpec data) {
        datasets.get(data.getDataset());
        if (data.getTrainLimit() < 0) {
            throw DistilleryException.invalid("data.train_limit must be >= 0 (0 = all images), got %d", data.getTrainLimit());
        }
        float validation = data.hasValidationFraction() ? data.getValidationFraction().getValue() : DEFAULT_VALIDATION_FRACTION;
        if (!(validation >= 0 && validation < 1)) {
            throw DistilleryException.invalid("data.validation_fraction must be in [0, 1), got %s", validation);
        }
        float labelled = data.hasLabelledFraction() ? data.getLabelledFraction().getValue() : 1f;
        if (!(labelled > 0 && labelled <= 1)) {
            throw DistilleryException.invalid("data.labelled_fraction must be in (0, 1], got %s", labelled);
        }
        return data.toBuilder().setValidationFraction(FloatValue.of(validation)).setLabelledFraction(FloatValue.of(labelled)).build();
    }

    private static Distillation distillation(Distillation kd, boolean hasTeacher) {
        if (!kd.getMethod().isEmpty() && !kd.getMethod().equals("kd")) {
            throw DistilleryException.invalid("distillation.method '%s' is unknown; known methods: [kd]", kd.getMethod());
        }
        float temperature = kd.hasTemperature() ? kd.getTemperature().getValue() : DEFAULT_TEMPERATURE;
        if (!(temperature > 0) || Float.isInfinite(temperature)) {
            throw DistilleryException.invalid("distillation.temperature must be > 0, got %s (the seed uses 3; try 2 to 5)",
                    temperature);
        }
        float alpha = kd.hasAlpha() ? kd.getAlpha().getValue() : hasTeacher ? DEFAULT_ALPHA_WITH_TEACHER : 0f;
        if (!(alpha >= 0 && alpha <= 1)) {
            throw DistilleryException.invalid("distillation.alpha must be in [0, 1], got %s", alpha);
        }
        if (alpha > 0 && !hasTeacher) {
            throw DistilleryException.invalid(
                    "distillation.alpha is %s but the recipe names no teacher: set recipe.teacher, or alpha 0 to train on labels alone",
                    alpha);
        }
        return kd.toBuilder().setMethod("kd").setTemperature(FloatValue.of(temperature)).setAlpha(FloatValue.of(alpha)).build();
    }

    private static OptimizerSpec optimizer(OptimizerSpec optimizer) {
        if (!optimizer.getName().isEmpty() && !optimizer.getName().equals("adamw")) {
            throw DistilleryException.invalid("optimizer.name '%s' is unknown; known optimizers: [adamw]", optimizer.getName());
        }
        float lr = optimizer.hasLearningRate() ? optimizer.getLearningRate().getValue() : DEFAULT_LEARNING_RATE;
        if (!(lr > 0) || Float.isInfinite(lr)) {
            throw DistilleryException.invalid("optimizer.learning_rate must be > 0, got %s", lr);
        }
        float decay = optimizer.hasWeightDecay() ? optimizer.getWeightDecay().getValue() : DEFAULT_WEIGHT_DECAY;
        if (!(decay >= 0) || Float.isInfinite(decay)) {
            throw DistilleryException.invalid("optimizer.weight_decay must be >= 0, got %s", decay);
        }
        return optimizer.toBuilder().setName("adamw").setLearningRate(FloatValue.of(lr)).setWeightDecay(FloatValue.of(decay)).build();
    }

    private static void checkTeacher(ModelInfo teacher, ImageSet train, int classes) {
        List<Long> shape = List.of((long) train.channels(), (long) train.height(), (long) train.width());
        if (!teacher.getInputShapeList().equals(shape)) {
            throw DistilleryException.invalid("teacher %s/%d takes inputs of shape %s but the dataset's images are %s",
                    teacher.getName(), teacher.getVersion(), teacher.getInputShapeList(), shape);
        }
        if (teacher.getLabelsCount() != classes) {
            throw DistilleryException.invalid("teacher %s/%d has %d classes but the dataset has %d",
                    teacher.getName(), teacher.getVersion(), teacher.getLabelsCount(), classes);
        }
    }
}

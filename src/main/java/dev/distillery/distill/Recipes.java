package dev.distillery.distill;

import com.google.protobuf.FloatValue;
import dev.distillery.data.Augmenter;
import dev.distillery.data.Datasets;
import dev.distillery.data.ImagePipeline;
import dev.distillery.data.ImageShape;
import dev.distillery.data.ImageSource;
import dev.distillery.error.DistilleryException;
import dev.distillery.model.ArchitectureCatalogue;
import dev.distillery.model.ArchitectureSpec;
import dev.distillery.serve.LoadedModel;
import dev.distillery.store.ModelStore;
import dev.distillery.v1.Architecture;
import dev.distillery.v1.Augmentation;
import dev.distillery.v1.ConvStage;
import dev.distillery.v1.DataSpec;
import dev.distillery.v1.Distillation;
import dev.distillery.v1.ModelInfo;
import dev.distillery.v1.OptimizerSpec;
import dev.distillery.v1.Preprocessing;
import dev.distillery.v1.RandomResizedCrop;
import dev.distillery.v1.Recipe;
import dev.distillery.v1.StudentInput;
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
    private static final int MAX_INPUT_SIDE = 1024;
    /** Far past any useful padding (CIFAR recipes pad 4 pixels of 32). */
    private static final int MAX_PADDING = 256;

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
        int classes = datasets.get(data.getDataset()).labels().size();
        // Loading the training split checks the dataset's files are there, before a job is queued.
        StudentInput input = studentInput(recipe.getStudentInput(), data.getDataset(),
                datasets.load(data.getDataset(), "train"));
        Recipe.Builder resolved = recipe.toBuilder()
                .setStudentInput(input)
                .setBatchSize(recipe.getBatchSize() == 0 ? DEFAULT_BATCH : recipe.getBatchSize())
                .setDevice(device)
                .setData(data)
                .setDistillation(distillation)
                .setOptimizer(optimizer);
        if (recipe.hasTeacher()) {
            ModelInfo teacher = store.get(recipe.getTeacher());
            checkTeacher(teacher, classes);
            resolved.getTeacherBuilder().setVersion(teacher.getVersion());
        }
        // Building the network checks the architecture against the student's input size.
        catalogue.build(spec(recipe.getStudent()), ImagePipeline.channels(input.getPreprocessing().getColor()),
                input.getHeight(), input.getWidth(), classes);
        return resolved.build();
    }

    /** The catalogue's view of a proto architecture. */
    public static ArchitectureSpec spec(Architecture architecture) {
        List<List<Integer>> stages = architecture.getStagesList().stream().map(ConvStage::getChannelsList).toList();
        return new ArchitectureSpec(architecture.getName(), architecture.getHiddenList(), stages,
                architecture.getBatchNorm(), architecture.getDropout());
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
        return data.toBuilder().setValidationFraction(FloatValue.of(validation)).setLabelledFraction(FloatValue.of(labelled))
                .setAugmentation(augmentation(data.getAugmentation())).build();
    }

    /** The augmentation with torchvision's defaults filled in; rejects bounds no transform can draw from. */
    private static Augmentation augmentation(Augmentation augmentation) {
        int padding = augmentation.getRandomCropPadding();
        if (padding < 0 || padding > MAX_PADDING) {
            throw DistilleryException.invalid(
                    "data.augmentation.random_crop_padding must be in [0, %d] pixels (0 = off; CIFAR recipes use 4), got %d",
                    MAX_PADDING, padding);
        }
        RandomResizedCrop crop = augmentation.getRandomResizedCrop();
        if (!crop.getEnabled()) {
            if (!crop.equals(RandomResizedCrop.getDefaultInstance())) {
                throw DistilleryException.invalid(
                        "data.augmentation.random_resized_crop sets a scale or ratio but enabled is false: set enabled to use it");
            }
            return augmentation;
        }
        crop = Augmenter.withDefaults(crop);
        float minScale = crop.getMinScale().getValue();
        float maxScale = crop.getMaxScale().getValue();
        if (!(minScale > 0 && minScale <= maxScale && maxScale <= 1)) {
            throw DistilleryException.invalid(
                    "data.augmentation.random_resized_crop needs 0 < min_scale <= max_scale <= 1 (shares of the image's area; default %s and %s), got %s and %s",
                    Augmenter.DEFAULT_MIN_SCALE, Augmenter.DEFAULT_MAX_SCALE, minScale, maxScale);
        }
        float minRatio = crop.getMinRatio().getValue();
        float maxRatio = crop.getMaxRatio().getValue();
        if (!(minRatio > 0 && minRatio <= maxRatio && Float.isFinite(maxRatio))) {
            throw DistilleryException.invalid(
                    "data.augmentation.random_resized_crop needs 0 < min_ratio <= max_ratio (width / height; default 3/4 and 4/3), got %s and %s",
                    minRatio, maxRatio);
        }
        return augmentation.toBuilder().setRandomResizedCrop(crop).build();
    }

    /**
     * The student's input with its size and colour filled in: the dataset's own where the recipe gives
     * none. Mean and std stay empty when not given: the run fits them on the training images.
     */
    private static StudentInput studentInput(StudentInput input, String dataset, ImageSource train) {
        int height = input.getHeight();
        int width = input.getWidth();
        if ((height == 0) != (width == 0)) {
            throw DistilleryException.invalid(
                    "recipe.student_input: set both height and width, or neither for the dataset's size; got %d x %d",
                    height, width);
        }
        Preprocessing pre = input.getPreprocessing();
        String color = pre.getColor();
        if (height == 0 || color.isEmpty()) {
            ImageShape shape = train.shape();
            if (height == 0 && !shape.uniformSize()) {
                throw DistilleryException.invalid(
                        "dataset '%s' holds images of different sizes: set recipe.student_input.height and width "
                                + "(and preprocessing.resize with center_crop to keep their aspect ratio)", dataset);
            }
            height = height == 0 ? shape.height() : height;
            width = width == 0 ? shape.width() : width;
            color = color.isEmpty() ? (shape.channels() == 1 ? ImagePipeline.GRAY : ImagePipeline.RGB) : color;
        }
        if (height < 1 || width < 1 || height > MAX_INPUT_SIDE || width > MAX_INPUT_SIDE) {
            throw DistilleryException.invalid(
                    "recipe.student_input height and width must be in [1, %d] (0 = the dataset's size), got %d x %d%s",
                    MAX_INPUT_SIDE, height, width, input.getHeight() == 0 ? " from the dataset: set them" : "");
        }
        if (pre.getCenterCrop() && pre.getResize() < Math.max(height, width)) {
            throw DistilleryException.invalid(
                    "recipe.student_input.preprocessing.center_crop needs resize >= the input's larger side (%d), got resize %d",
                    Math.max(height, width), pre.getResize());
        }
        pre = pre.toBuilder().setColor(color).build();
        try {
            ImagePipeline.of(pre, ImagePipeline.channels(color), height, width);
        } catch (DistilleryException e) {
            throw DistilleryException.invalid("recipe.student_input.%s", e.getMessage());
        }
        return input.toBuilder().setHeight(height).setWidth(width).setPreprocessing(pre).build();
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

    /** The teacher's classes must be the dataset's; its inputs follow its own model.json, whatever their size. */
    private static void checkTeacher(ModelInfo teacher, int classes) {
        LoadedModel.pipeline(teacher);
        if (teacher.getLabelsCount() != classes) {
            throw DistilleryException.invalid("teacher %s/%d has %d classes but the dataset has %d",
                    teacher.getName(), teacher.getVersion(), teacher.getLabelsCount(), classes);
        }
    }
}

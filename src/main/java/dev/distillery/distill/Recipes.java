package dev.distillery.distill;

import com.google.protobuf.FloatValue;
import dev.distillery.data.Augmenter;
import dev.distillery.data.Datasets;
import dev.distillery.data.ImagePipeline;
import dev.distillery.data.ImageShape;
import dev.distillery.data.ImageSource;
import dev.distillery.distill.methods.DistillationMethod;
import dev.distillery.distill.methods.DistillationMethods;
import dev.distillery.distill.optim.LearningRateSchedule;
import dev.distillery.distill.optim.Optimizers;
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
import dev.distillery.v1.Schedule;
import dev.distillery.v1.StudentInput;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Checks a recipe and fills in its defaults, so that a job only starts from a recipe that can run
 * and the stored lineage says exactly what ran. Every rejection names the field, the value and what
 * would be accepted.
 */
public final class Recipes {

    public static final int DEFAULT_BATCH = 128;
    public static final float DEFAULT_VALIDATION_FRACTION = 0.1f;
    public static final float DEFAULT_LEARNING_RATE = 1e-3f;
    public static final float DEFAULT_WEIGHT_DECAY = 0.01f;
    public static final float DEFAULT_SGD_LEARNING_RATE = 0.05f;
    public static final float DEFAULT_SGD_WEIGHT_DECAY = 5e-4f;
    public static final float DEFAULT_MOMENTUM = 0.9f;
    public static final float DEFAULT_GAMMA = 0.1f;
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
        DataSpec data = data(recipe.getData());
        boolean validates = data.getValidationFraction().getValue() > 0;
        Distillation distillation = distillation(recipe.getDistillation(), recipe.hasTeacher(), validates);
        OptimizerSpec optimizer = optimizer(recipe.getOptimizer());
        Schedule schedule = schedule(recipe.getSchedule(), recipe.getEpochs());
        checkTrainingPractice(recipe, validates);
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
                .setOptimizer(optimizer)
                .setSchedule(schedule)
                .setEarlyStopping(recipe.getEarlyStopping());
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
        pre = pre.toBuilder().setColor(color).build();
        try {
            ImagePipeline.of(pre, ImagePipeline.channels(color), height, width);
        } catch (DistilleryException e) {
            throw DistilleryException.invalid("recipe.student_input.%s", e.getMessage());
        }
        return input.toBuilder().setHeight(height).setWidth(width).setPreprocessing(pre).build();
    }

    /**
     * The method's settings with its defaults (the method owns those and their ranges), then what
     * spans fields: a teacher for every setting that learns from one, and a sweep's settings each valid,
     * none twice, with a teacher to compare and validation images to choose by.
     */
    private static Distillation distillation(Distillation given, boolean hasTeacher, boolean validates) {
        DistillationMethod method = DistillationMethods.get(given.getMethod());
        Distillation resolved = method.resolve(given, hasTeacher);
        if (SweepRun.isSweep(resolved)) {
            if (!hasTeacher) {
                throw DistilleryException.invalid(
                        "distillation.sweep tries settings of the teacher's term but the recipe names no teacher: set recipe.teacher");
            }
            if (!validates) {
                throw DistilleryException.invalid(
                        "distillation.sweep keeps the setting with the best validation accuracy, but data.validation_fraction is 0: hold out some images");
            }
            checkDistinct("temperatures", resolved.getSweep().getTemperaturesList());
            checkDistinct("alphas", resolved.getSweep().getAlphasList());
            for (Distillation setting : SweepRun.settings(resolved)) {
                try {
                    method.resolve(setting, true);
                } catch (DistilleryException e) {
                    throw DistilleryException.invalid("distillation.sweep setting %s: %s", SweepRun.label(setting), e.getMessage());
                }
            }
        }
        if (!hasTeacher && method.usesTeacher(resolved)) {
            throw DistilleryException.invalid(
                    "distillation %s %s learns from a teacher but the recipe names no teacher: set recipe.teacher, or use method kd with alpha 0 to train on labels alone",
                    resolved.getMethod(), SweepRun.label(resolved));
        }
        return resolved;
    }

    private static void checkDistinct(String field, List<Float> values) {
        if (new HashSet<>(values).size() != values.size()) {
            throw DistilleryException.invalid("distillation.sweep.%s lists a value twice: %s", field, values);
        }
    }

    private static OptimizerSpec optimizer(OptimizerSpec given) {
        String name = given.getName().isEmpty() ? Optimizers.ADAMW : given.getName();
        if (!Optimizers.names().contains(name)) {
            throw DistilleryException.invalid("optimizer.name '%s' is unknown; known optimizers: %s",
                    given.getName(), Optimizers.names());
        }
        boolean sgd = name.equals(Optimizers.SGD);
        float lr = given.hasLearningRate() ? given.getLearningRate().getValue()
                : sgd ? DEFAULT_SGD_LEARNING_RATE : DEFAULT_LEARNING_RATE;
        if (!(lr > 0) || Float.isInfinite(lr)) {
            throw DistilleryException.invalid("optimizer.learning_rate must be > 0, got %s", lr);
        }
        float decay = given.hasWeightDecay() ? given.getWeightDecay().getValue()
                : sgd ? DEFAULT_SGD_WEIGHT_DECAY : DEFAULT_WEIGHT_DECAY;
        if (!(decay >= 0) || Float.isInfinite(decay)) {
            throw DistilleryException.invalid("optimizer.weight_decay must be >= 0, got %s", decay);
        }
        OptimizerSpec.Builder resolved = given.toBuilder().setName(name)
                .setLearningRate(FloatValue.of(lr)).setWeightDecay(FloatValue.of(decay));
        if (!sgd) {
            if (given.hasMomentum() || given.getNesterov()) {
                throw DistilleryException.invalid(
                        "optimizer.momentum and optimizer.nesterov are for sgd; adamw keeps its own moment estimates");
            }
            return resolved.build();
        }
        float momentum = given.hasMomentum() ? given.getMomentum().getValue() : DEFAULT_MOMENTUM;
        if (!(momentum >= 0 && momentum < 1)) {
            throw DistilleryException.invalid("optimizer.momentum must be in [0, 1), got %s", momentum);
        }
        if (given.getNesterov() && momentum == 0) {
            throw DistilleryException.invalid("optimizer.nesterov needs optimizer.momentum > 0, got 0");
        }
        return resolved.setMomentum(FloatValue.of(momentum)).build();
    }

    private static Schedule schedule(Schedule given, int epochs) {
        String name = given.getName().isEmpty() ? LearningRateSchedule.Kind.CONSTANT.recipeName() : given.getName();
        LearningRateSchedule.Kind kind = LearningRateSchedule.kind(name);
        if (kind == null) {
            throw DistilleryException.invalid("schedule.name '%s' is unknown; known schedules: %s",
                    given.getName(), LearningRateSchedule.names());
        }
        if (given.getWarmupEpochs() < 0 || given.getWarmupEpochs() >= epochs) {
            throw DistilleryException.invalid("schedule.warmup_epochs must be in [0, %d] (below recipe.epochs), got %d",
                    epochs - 1, given.getWarmupEpochs());
        }
        Schedule.Builder resolved = given.toBuilder().setName(name);
        if (kind != LearningRateSchedule.Kind.STEP) {
            if (given.getMilestonesCount() > 0 || given.hasGamma()) {
                throw DistilleryException.invalid("schedule.milestones and schedule.gamma are for the step schedule, not %s", name);
            }
            return resolved.build();
        }
        List<Integer> milestones = given.getMilestonesList();
        for (int i = 0; i < milestones.size(); i++) {
            if (milestones.get(i) < 1 || milestones.get(i) >= epochs || (i > 0 && milestones.get(i) <= milestones.get(i - 1))) {
                throw DistilleryException.invalid(
                        "schedule.milestones must be increasing epochs in [1, %d] (after which the rate drops), got %s",
                        epochs - 1, milestones);
            }
        }
        if (milestones.isEmpty()) {
            throw DistilleryException.invalid("schedule.milestones is empty: step needs the epochs after which the rate drops");
        }
        float gamma = given.hasGamma() ? given.getGamma().getValue() : DEFAULT_GAMMA;
        if (!(gamma > 0 && gamma <= 1)) {
            throw DistilleryException.invalid("schedule.gamma must be in (0, 1], got %s", gamma);
        }
        return resolved.setGamma(FloatValue.of(gamma)).build();
    }

    private static void checkTrainingPractice(Recipe recipe, boolean validates) {
        float smoothing = recipe.getLabelSmoothing();
        if (!(smoothing >= 0 && smoothing < 1)) {
            throw DistilleryException.invalid("recipe.label_smoothing must be in [0, 1) (0 = none), got %s", smoothing);
        }
        int patience = recipe.getEarlyStopping().getPatience();
        if (patience < 0) {
            throw DistilleryException.invalid("recipe.early_stopping.patience must be >= 0 (0 = off), got %d", patience);
        }
        if (patience > 0 && !validates) {
            throw DistilleryException.invalid(
                    "recipe.early_stopping.patience is %d but data.validation_fraction is 0: there is no validation accuracy to watch",
                    patience);
        }
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

package dev.distillery.distill;

import dev.distillery.data.Augmenter;
import dev.distillery.data.Datasets;
import dev.distillery.data.ImagePipeline;
import dev.distillery.data.ImageSet;
import dev.distillery.data.ImageSource;
import dev.distillery.data.Normalization;
import dev.distillery.data.Permutations;
import dev.distillery.data.TrainingSplit;
import dev.distillery.jobs.JobContext;
import dev.distillery.serve.LoadedModel;
import dev.distillery.serve.ModelInputs;
import dev.distillery.serve.ModelSessions;
import dev.distillery.v1.DataSpec;
import dev.distillery.v1.Recipe;
import dev.distillery.v1.StudentInput;
import java.util.Arrays;
import java.util.Random;

/**
 * The data stage of a run: split the dataset, fix the student's preprocessing (fitting mean and std on
 * the training images when the recipe gives none), decide where the teacher's logits come from, and
 * build the {@link StudentData}. It tells the job which it chose in its "data" and "teacher" stages.
 *
 * <ul>
 *   <li>Not augmented, and the dataset in memory (IDX, CIFAR): the student's inputs are prepared once and
 *       kept in memory, the teacher's logits computed once ({@link InMemoryStudentData}).
 *   <li>Otherwise ({@link StreamingStudentData}): batches are read and prepared as training goes; with
 *       augmentation the teacher runs on every augmented batch (consistent teaching), without it its
 *       logits are still computed once.
 * </ul>
 */
final class StudentDataFactory {

    /** An image folder's mean and std are fitted on at most this many training images, drawn by the seed. */
    static final int NORMALIZATION_SAMPLE = 2_000;
    /** Prepared student inputs are kept in memory up to this size; beyond it they are prepared per batch. */
    private static final long IN_MEMORY_BYTES = 1L << 30;

    private final Datasets datasets;
    private final ModelSessions sessions;

    StudentDataFactory(Datasets datasets, ModelSessions sessions) {
        this.datasets = datasets;
        this.sessions = sessions;
    }

    /**
     * What a run trains on.
     *
     * @param data the batches; the caller closes it
     * @param student the student's preprocessing, normalisation included: what its model.json says
     * @param dataset the dataset's name and classes
     * @param trainCount training images, unlabelled ones included
     * @param labelledCount training images with a label
     */
    record Prepared(StudentData data, ImagePipeline student, Datasets.Dataset dataset, int trainCount,
            int labelledCount) {}

    /**
     * @param recipe a resolved recipe (student input sizes and colour filled in)
     * @param taught whether the student learns from the recipe's teacher
     */
    Prepared open(Recipe recipe, boolean taught, JobContext context) {
        DataSpec spec = recipe.getData();
        Datasets.Dataset dataset = datasets.get(spec.getDataset());
        ImageSource source = datasets.load(spec.getDataset(), "train");
        TrainingSplit.Plan plan = TrainingSplit.Plan.of(source.count(), spec.getTrainLimit(),
                spec.getValidationFraction().getValue(), spec.getLabelledFraction().getValue(), recipe.getSeed());
        ImageSource validation = plan.validation(source);
        ImageSource labelled = plan.train(source);
        ImageSource train = datasets.unlabelled(spec.getDataset())
                .map(extra -> ImageSource.concat(labelled, extra)).orElse(labelled);

        StudentInput input = recipe.getStudentInput();
        ImagePipeline geometry = ImagePipeline.of(input.getPreprocessing(),
                ImagePipeline.channels(input.getPreprocessing().getColor()), input.getHeight(), input.getWidth());
        Augmenter augmenter = Augmenter.of(spec.getAugmentation());
        boolean inMemory = !augmenter.active() && train.inMemory() && validation.inMemory()
                && (long) train.count() * geometry.imageSize() <= IN_MEMORY_BYTES;
        ImageSet preparedTrain = inMemory ? geometry.prepareAll(train) : null;
        boolean fitted = input.getPreprocessing().getMeanCount() == 0;
        ImagePipeline student = !fitted ? geometry : geometry.withNormalization(inMemory
                ? Normalization.fit(preparedTrain) : fit(geometry, train, recipe.getSeed()));
        context.stage("data", String.format(
                "%s (%s): %d training images (%d labelled, %d without a label), %d for validation; student input %s "
                        + "%dx%d, mean and std %s; augmentation: %s",
                dataset.name(), dataset.format(), train.count(), plan.labelledCount(),
                train.count() - plan.labelledCount(), validation.count(), student.preprocessing().getColor(),
                student.height(), student.width(), fitted ? sampleNote(train) : "as given", augmenter.describe()));

        TeacherLogits teacher = taught ? teacher(recipe, train, augmenter, context) : new TeacherLogits.None();
        int classes = dataset.labels().size();
        StudentData data = inMemory
                ? new InMemoryStudentData(preparedTrain,
                        teacher instanceof TeacherLogits.Computed computed ? computed.logits() : null,
                        geometry.prepareAll(validation), student.normalization(), classes, recipe.getSeed())
                : new StreamingStudentData(train, validation, student, augmenter, teacher, classes, recipe.getSeed());
        return new Prepared(data, student, dataset, train.count(), plan.labelledCount());
    }

    private TeacherLogits teacher(Recipe recipe, ImageSource train, Augmenter augmenter, JobContext context) {
        LoadedModel model = sessions.get(recipe.getTeacher());
        ModelInputs inputs = ModelInputs.of(model);
        String name = model.info().getName() + "/" + model.info().getVersion();
        String shape = model.channels() + "x" + model.height() + "x" + model.width();
        if (augmenter.active()) {
            context.stage("teacher", String.format(
                    "%s runs on every augmented batch (consistent teaching), on %s inputs", name, shape));
            return new TeacherLogits.EveryBatch(inputs::logits);
        }
        long start = System.nanoTime();
        float[] logits = inputs.logits(train);
        context.stage("teacher", String.format("logits of %s for %d images (%s inputs), computed once in %.1f s",
                name, train.count(), shape, (System.nanoTime() - start) / 1e9));
        return new TeacherLogits.Computed(logits, model.classes());
    }

    /**
     * Mean and std of the student's prepared training images, before augmentation: all of them when they
     * are in memory, else {@link #NORMALIZATION_SAMPLE} drawn by the seed.
     */
    private static Normalization fit(ImagePipeline geometry, ImageSource train, long seed) {
        int[] chosen = Permutations.random(train.count(), new Random(seed));
        int n = train.inMemory() ? train.count() : Math.min(NORMALIZATION_SAMPLE, train.count());
        int[] sample = Arrays.copyOf(chosen, n);
        Arrays.sort(sample);
        Normalization.Sums sums = new Normalization.Sums(geometry.channels());
        for (int index : sample) {
            sums.add(geometry.prepare(train.image(index)));
        }
        return sums.fit();
    }

    private static String sampleNote(ImageSource train) {
        return train.inMemory() || train.count() <= NORMALIZATION_SAMPLE
                ? "fitted on the training images"
                : "fitted on " + NORMALIZATION_SAMPLE + " training images drawn by the seed";
    }
}

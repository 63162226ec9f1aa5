package dev.distillery;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.distillery.v1.Architecture;
import dev.distillery.v1.ConvStage;
import dev.distillery.v1.DataSpec;
import dev.distillery.v1.EpochProgress;
import dev.distillery.v1.GetJobRequest;
import dev.distillery.v1.Job;
import dev.distillery.v1.JobEvent;
import dev.distillery.v1.JobState;
import dev.distillery.v1.ModelRef;
import dev.distillery.v1.Recipe;
import dev.distillery.v1.TrainRequest;
import dev.distillery.v1.WatchJobRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The packaged server, killed with SIGKILL in the middle of a training job, resumes the job on the
 * next start from its last checkpoint and ends with the model an uninterrupted run of the same recipe
 * makes, byte for byte. The job ran in a worker process of the killed server: that orphan stops by
 * itself once its channel to control is gone, and the restarted server's new worker resumes the job.
 *
 * <p>Runs after {@code mvn package} (failsafe), against {@code target/quarkus-app/quarkus-run.jar},
 * with its own store and job folders under {@code target/kill-and-resume-it/}.
 */
class KillAndResumeIT {

    private static final Path WORK = Path.of("target/kill-and-resume-it").toAbsolutePath();
    private static final Path STORE = WORK.resolve("models");
    private static final Path JOBS = WORK.resolve("jobs");
    private static final int EPOCHS = 6;
    /** The server is killed once this epoch has been reported. */
    private static final int KILL_AFTER_EPOCH = 3;
    /** What the trainer says when it continues from a checkpoint (stage "resume"). */
    private static final Pattern RESUMED_FROM = Pattern.compile("resumed from the checkpoint after epoch (\\d+)");
    private static final Duration JOB = Duration.ofMinutes(10);

    /** A small job with everything that could vary fixed: data, architecture, batch and seed. */
    private static Recipe recipe(String outputModel) {
        return Recipe.newBuilder()
                .setOutputModel(outputModel)
                .setStudent(Architecture.newBuilder().setName("cnn")
                        .addStages(ConvStage.newBuilder().addChannels(8))
                        .setBatchNorm(true)
                        .addHidden(32))
                .setData(DataSpec.newBuilder().setDataset("fashion-mnist").setTrainLimit(2000))
                .setEpochs(EPOCHS)
                .setBatchSize(64)
                .setSeed(11)
                .build();
    }

    @Test
    @Timeout(value = 30, unit = TimeUnit.MINUTES)
    void aJobKilledMidRunResumesFromItsCheckpointAndMakesTheSameModel() throws Exception {
        PackagedServer.deleteTree(WORK);
        Files.createDirectories(WORK);
        List<PackagedServer> started = new ArrayList<>();
        try {
            // 1. Submit, follow the job to the end of epoch KILL_AFTER_EPOCH, then SIGKILL the server.
            PackagedServer first = start(started, 1);
            String jobId;
            List<ProcessHandle> orphans;
            try (PackagedServer.Connection connection = first.connect()) {
                Iterator<JobEvent> events = connection.training.withDeadlineAfter(JOB.toSeconds(), TimeUnit.SECONDS)
                        .train(TrainRequest.newBuilder().setRecipe(recipe("resumed")).build());
                jobId = events.next().getJobId();
                awaitEpoch(events, KILL_AFTER_EPOCH);
                orphans = first.workers(jobId);
                assertEquals(1, orphans.size(), "the job runs in one worker process of the server");
                first.process().destroyForcibly(); // SIGKILL on Linux: no shutdown hook, no chance to record anything
                assertTrue(first.process().waitFor(30, TimeUnit.SECONDS), "the killed server did not exit");
                assertEquals(128 + 9, first.process().exitValue(), "the server died of SIGKILL");
            }
            // Its worker lives on for a moment, then sees its channel to control gone and stops.
            for (ProcessHandle orphan : orphans) {
                assertTrue(orphan.onExit().orTimeout(2, TimeUnit.MINUTES).handle((p, e) -> e == null).get(),
                        "the worker of the killed server is still running");
            }
            String recordAtKill = Files.readString(JOBS.resolve(jobId + ".json"));
            assertTrue(recordAtKill.contains("JOB_STATE_RUNNING"), recordAtKill);
            boolean checkpointAtKill = Files.isDirectory(JOBS.resolve(jobId));

            // 2. Restart on the same folders and follow the job again until it ends.
            PackagedServer second = start(started, 2);
            List<JobEvent> afterRestart = new ArrayList<>();
            Job job;
            Job reference;
            try (PackagedServer.Connection connection = second.connect()) {
                connection.training.withDeadlineAfter(JOB.toSeconds(), TimeUnit.SECONDS)
                        .watchJob(WatchJobRequest.newBuilder().setJobId(jobId).build())
                        .forEachRemaining(afterRestart::add);
                job = connection.training.getJob(GetJobRequest.newBuilder().setJobId(jobId).build());

                // 3. The same recipe, uninterrupted, on the same server.
                List<JobEvent> referenceEvents = new ArrayList<>();
                connection.training.withDeadlineAfter(JOB.toSeconds(), TimeUnit.SECONDS)
                        .train(TrainRequest.newBuilder().setRecipe(recipe("uninterrupted")).build())
                        .forEachRemaining(referenceEvents::add);
                reference = connection.training.getJob(GetJobRequest.newBuilder()
                        .setJobId(referenceEvents.get(0).getJobId()).build());
            }

            assertEquals(JobState.JOB_STATE_SUCCEEDED, job.getState(), job.getError());
            assertEquals(1, job.getResumes());
            assertEquals(IntStream.rangeClosed(1, EPOCHS).boxed().toList(), epochs(job.getEpochsList()),
                    "every epoch recorded once, in order");
            assertFalse(Files.exists(JOBS.resolve(jobId)), "the job's checkpoints are deleted once it has ended");
            assertEquals(JobState.JOB_STATE_SUCCEEDED, reference.getState(), reference.getError());
            assertArrayEquals(Files.readAllBytes(modelFile(reference.getModel())), Files.readAllBytes(modelFile(job.getModel())),
                    "the resumed job's model.onnx is byte-identical to the uninterrupted run's");

            // The resumed attempt continued after epoch K >= 2 rather than starting over.
            assertTrue(checkpointAtKill, "no checkpoint folder " + JOBS.resolve(jobId) + " when the server was killed");
            List<JobEvent> resumedAttempt = afterRestart.subList(indexOfStage(afterRestart, "resumed") + 1, afterRestart.size());
            int resumeStage = indexOfStage(resumedAttempt, "resume");
            assertTrue(resumeStage >= 0, "the resumed run never said it continued from a checkpoint: " + stages(resumedAttempt));
            Matcher from = RESUMED_FROM.matcher(resumedAttempt.get(resumeStage).getStage().getMessage());
            assertTrue(from.find(), resumedAttempt.get(resumeStage).toString());
            int checkpointEpoch = Integer.parseInt(from.group(1));
            assertTrue(checkpointEpoch >= 2, "resumed after epoch " + checkpointEpoch + ", killed after epoch " + KILL_AFTER_EPOCH);
            List<Integer> rerun = epochs(resumedAttempt.stream().filter(JobEvent::hasEpoch).map(JobEvent::getEpoch).toList());
            assertEquals(IntStream.rangeClosed(checkpointEpoch + 1, EPOCHS).boxed().toList(), rerun,
                    "the resumed run trains only the epochs after its checkpoint");
        } finally {
            for (PackagedServer server : started) {
                server.close();
            }
        }
    }

    /** Reads events until epoch {@code epoch} has ended; fails if the job ends first. */
    private static void awaitEpoch(Iterator<JobEvent> events, int epoch) {
        while (events.hasNext()) {
            JobEvent event = events.next();
            if (event.hasEpoch() && event.getEpoch().getEpoch() >= epoch) {
                return;
            }
            if (event.hasFinished() || event.hasFailed() || event.hasCancelled()) {
                fail("the job ended before epoch " + epoch + ": " + event);
            }
        }
        fail("the event stream ended before epoch " + epoch);
    }

    private static List<Integer> epochs(List<EpochProgress> progress) {
        return progress.stream().map(EpochProgress::getEpoch).toList();
    }

    private static int indexOfStage(List<JobEvent> events, String name) {
        for (int i = 0; i < events.size(); i++) {
            if (events.get(i).hasStage() && events.get(i).getStage().getName().equals(name)) {
                return i;
            }
        }
        return -1;
    }

    private static List<String> stages(List<JobEvent> events) {
        return events.stream().filter(JobEvent::hasStage).map(e -> e.getStage().getName()).toList();
    }

    private static Path modelFile(ModelRef model) {
        return STORE.resolve(model.getName()).resolve(Long.toString(model.getVersion())).resolve("model.onnx");
    }

    private static PackagedServer start(List<PackagedServer> started, int run) throws Exception {
        PackagedServer server = PackagedServer.start(STORE, JOBS, WORK.resolve("server-" + run + ".log"));
        started.add(server);
        return server;
    }
}

package dev.distillery.jobs;

import dev.distillery.v1.Finished;
import dev.distillery.v1.Recipe;

/**
 * Carries out one recipe. Throws {@link java.util.concurrent.CancellationException} when cancelled.
 * A job cut short by a server stop or crash is run again on the next start with the same
 * {@link JobContext#workDirectory()}: a runner that keeps a checkpoint there continues from it, and
 * one that finds none starts over.
 */
@FunctionalInterface
public interface JobRunner {

    Finished run(Recipe recipe, JobContext context) throws Exception;
}

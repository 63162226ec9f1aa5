package dev.distillery.jobs;

import dev.distillery.v1.Finished;
import dev.distillery.v1.Recipe;

/** Carries out one recipe. Throws {@link java.util.concurrent.CancellationException} when cancelled. */
@FunctionalInterface
public interface JobRunner {

    Finished run(Recipe recipe, JobContext context) throws Exception;
}

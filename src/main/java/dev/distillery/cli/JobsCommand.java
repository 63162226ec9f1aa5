package dev.distillery.cli;

import dev.distillery.client.TextTable;
import dev.distillery.v1.EpochProgress;
import dev.distillery.v1.Job;
import dev.distillery.v1.JobState;
import dev.distillery.v1.ListJobsRequest;
import dev.distillery.v1.ListJobsResponse;
import dev.distillery.v1.TrainingGrpc;
import io.grpc.ManagedChannel;
import java.util.Locale;
import picocli.CommandLine.Command;

/** {@code distillery jobs}: every job, newest first, as a table; {@code jobs cancel JOB} stops one. */
@Command(name = "jobs", subcommands = JobsCancel.class,
        description = "List training jobs, newest first: id, state, model, created, progress.")
final class JobsCommand extends ServerCommand {

    /** Longest error message shown in the table; distillery watch JOB prints it whole. */
    private static final int ERROR_SHOWN = 60;

    @Override
    int run(ManagedChannel channel) {
        ListJobsResponse response = TrainingGrpc.newBlockingStub(channel).listJobs(ListJobsRequest.getDefaultInstance());
        if (response.getJobsCount() == 0) {
            out().println("no jobs yet: distillery train RECIPE.yaml submits one");
            return 0;
        }
        TextTable table = new TextTable().text("id").text("state").text("model").text("created").text("progress");
        for (Job job : response.getJobsList()) {
            String model = job.hasModel()
                    ? job.getModel().getName() + "/" + job.getModel().getVersion()
                    : job.getRecipe().getOutputModel();
            table.row(job.getId(), state(job.getState()), model, ModelCard.created(job.getCreated()), progress(job));
        }
        out().print(table.render());
        return 0;
    }

    /** JOB_STATE_RUNNING as "running". */
    static String state(JobState state) {
        return state.name().replace("JOB_STATE_", "").toLowerCase(Locale.ROOT);
    }

    private static String progress(Job job) {
        if (job.getState() == JobState.JOB_STATE_FAILED) {
            String error = job.getError();
            return error.length() <= ERROR_SHOWN ? error : error.substring(0, ERROR_SHOWN - 3) + "...";
        }
        if (job.getEpochsCount() == 0) {
            return "-";
        }
        EpochProgress last = job.getEpochs(job.getEpochsCount() - 1);
        String trial = last.getTrial().isEmpty() ? "" : " [" + last.getTrial() + "]";
        return String.format("epoch %d/%d%s, val acc %.2f %%%s", last.getEpoch(), last.getEpochs(), trial,
                100 * last.getValidationAccuracy(), job.getResumes() > 0 ? ", resumed " + job.getResumes() + "x" : "");
    }
}

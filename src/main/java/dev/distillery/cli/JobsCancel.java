package dev.distillery.cli;

import dev.distillery.v1.CancelJobRequest;
import dev.distillery.v1.Job;
import dev.distillery.v1.TrainingGrpc;
import io.grpc.ManagedChannel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code distillery jobs cancel JOB}. */
@Command(name = "cancel",
        description = "Cancel a queued or running job; a running job stops at its next batch.")
final class JobsCancel extends ServerCommand {

    @Parameters(paramLabel = "JOB", description = "The job's id.")
    String jobId;

    @Override
    int run(ManagedChannel channel) {
        Job job = TrainingGrpc.newBlockingStub(channel).cancelJob(CancelJobRequest.newBuilder().setJobId(jobId).build());
        out().printf("job %s: %s%n", job.getId(), JobsCommand.state(job.getState()));
        return 0;
    }
}

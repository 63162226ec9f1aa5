package dev.distillery.cli;

import dev.distillery.v1.TrainingGrpc;
import dev.distillery.v1.WatchJobRequest;
import io.grpc.ManagedChannel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code distillery watch JOB}: a job's events so far, then live ones until it ends. */
@Command(name = "watch",
        description = {"Follow a job: its events so far, then live ones until it ends.",
                "Ctrl-C stops watching; the job goes on."})
final class WatchCommand extends ServerCommand {

    @Parameters(paramLabel = "JOB", description = "The job's id, as train and jobs print it.")
    String jobId;

    @Override
    int run(ManagedChannel channel) {
        TrainingGrpc.TrainingBlockingStub training = TrainingGrpc.newBlockingStub(channel);
        return new JobFollower(out(), err(), root().interrupts())
                .follow(() -> training.watchJob(WatchJobRequest.newBuilder().setJobId(jobId).build()), false);
    }
}

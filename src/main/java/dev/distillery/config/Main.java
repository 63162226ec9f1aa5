package dev.distillery.config;

import dev.distillery.distill.DistillationRun;
import dev.distillery.jobs.ControlChannel;
import dev.distillery.jobs.Worker;
import dev.distillery.jobs.WorkerExit;
import io.grpc.ManagedChannel;
import io.quarkus.runtime.Quarkus;
import io.quarkus.runtime.QuarkusApplication;
import io.quarkus.runtime.annotations.QuarkusMain;
import jakarta.enterprise.inject.Instance;
import jakarta.inject.Inject;
import org.jboss.logging.Logger;

/**
 * The application's entry: a server (control, serve) runs until it is stopped; a worker runs its one
 * job and exits with a code that says how it ended ({@link WorkerExit}).
 */
@QuarkusMain
public class Main implements QuarkusApplication {

    private static final Logger LOG = Logger.getLogger(Main.class);

    @Inject
    Roles roles;

    @Inject
    DistilleryConfig config;

    @Inject
    Instance<DistillationRun> training;

    @Override
    public int run(String... args) throws InterruptedException {
        if (!roles.holds(Roles.Role.WORKER)) {
            Quarkus.waitForExit();
            return 0;
        }
        DistilleryConfig.Worker worker = config.worker();
        if (worker.job().isEmpty() || worker.control().isEmpty() || worker.token().isEmpty()) {
            LOG.errorf("the worker role needs distillery.worker.job (DISTILLERY_WORKER_JOB), distillery.worker.control "
                    + "(DISTILLERY_CONTROL_ADDRESS) and distillery.worker.token (DISTILLERY_WORKER_TOKEN); got job %s, "
                    + "control %s, %s token", worker.job().orElse("(none)"), worker.control().orElse("(none)"),
                    worker.token().isPresent() ? "a" : "no");
            return WorkerExit.USAGE.code();
        }
        ManagedChannel control = ControlChannel.open(worker.control().get(), worker.tlsCa());
        try {
            return new Worker(training.get(), config.jobs().root(), worker.grace(), Runtime.getRuntime()::halt)
                    .run(control, worker.job().get(), worker.token().get()).code();
        } finally {
            control.shutdownNow();
        }
    }
}

package dev.distillery.api;

import dev.distillery.jobs.WorkerHandle;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

/**
 * A worker run by a test on a thread of its own: its exit code is {@code exit}, and terminating it completes that
 * with SIGKILL's 137 as a killed process would.
 */
record FutureWorkerHandle(CompletableFuture<Integer> exit) implements WorkerHandle {

    @Override
    public String name() {
        return "test worker";
    }

    @Override
    public boolean alive() {
        return !exit.isDone();
    }

    @Override
    public void terminate() {
        exit.complete(137);
    }

    @Override
    public int awaitExit() throws InterruptedException {
        try {
            return exit.get();
        } catch (ExecutionException e) {
            throw new IllegalStateException(e);
        }
    }
}

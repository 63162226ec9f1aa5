package dev.distillery.jobs;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

/**
 * A test's worker that is a thread of the test's own JVM: alive until its exit code is set. Terminating it
 * sets 137, the code of a process killed by SIGKILL, and interrupts the thread; a worker that threw ends with
 * {@link WorkerExit#FAILED}.
 */
public final class ThreadWorkerHandle implements WorkerHandle {

    private final String name;
    private final Thread thread;
    private final CompletableFuture<Integer> exit;

    /** @param exit completed with the worker's exit code by {@code thread}, or exceptionally when it threw */
    public ThreadWorkerHandle(String name, Thread thread, CompletableFuture<Integer> exit) {
        this.name = name;
        this.thread = thread;
        this.exit = exit;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public boolean alive() {
        return !exit.isDone();
    }

    @Override
    public void terminate() {
        exit.complete(128 + 9);
        thread.interrupt();
    }

    @Override
    public int awaitExit() throws InterruptedException {
        try {
            return exit.get();
        } catch (ExecutionException e) {
            return WorkerExit.FAILED.code();
        }
    }
}

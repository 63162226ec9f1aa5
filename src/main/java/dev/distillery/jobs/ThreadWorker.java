package dev.distillery.jobs;

import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

/**
 * A worker that is a thread of this JVM ({@link InProcessLauncher}): alive until its exit code is set. A
 * thread cannot be killed, so {@link #end} sets the exit code a process would have and interrupts the
 * thread: the job is settled at once, and the thread's later reports are refused. Terminating it ends it
 * with 137, the code of a process killed by SIGKILL; a worker that threw ends with {@link WorkerExit#FAILED}.
 */
public final class ThreadWorker implements WorkerHandle {

    private final String name;
    private final CompletableFuture<Integer> exit = new CompletableFuture<>();
    private volatile Thread thread;

    /** @param name its thread's name */
    public ThreadWorker(String name) {
        this.name = name;
    }

    /** Runs {@code work}, which returns the worker's exit code, on a daemon thread of this worker's name. */
    public ThreadWorker start(Callable<Integer> work) {
        Thread started = new Thread(() -> {
            try {
                exit.complete(work.call());
            } catch (Throwable e) {
                exit.completeExceptionally(e);
            }
        }, name);
        started.setDaemon(true);
        thread = started;
        started.start();
        return this;
    }

    /** Ends the worker with {@code code} as a process would exit with it, and interrupts its thread. */
    public void end(int code) {
        exit.complete(code);
        Thread running = thread;
        if (running != null) {
            running.interrupt();
        }
    }

    @Override
    public String name() {
        return "worker thread '" + name + "'";
    }

    @Override
    public boolean alive() {
        return !exit.isDone();
    }

    @Override
    public void terminate() {
        end(128 + 9);
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

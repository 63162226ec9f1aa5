package dev.distillery.cli;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Ctrl-C (SIGINT) as the JVM reports it: the signal starts the shutdown, a hook runs the action, then
 * holds the JVM open until the command closes its registration, so that its last line (how to follow
 * the job again) is printed before the process ends with status 130.
 */
final class ShutdownHookInterrupts implements Interrupts {

    /** Long enough to cancel a stream and print a line; short enough that a stuck command still exits. */
    private static final long GRACE_SECONDS = 5;

    @Override
    public Registration onInterrupt(Runnable action) {
        CountDownLatch closed = new CountDownLatch(1);
        Thread hook = new Thread(() -> {
            action.run();
            try {
                closed.await(GRACE_SECONDS, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "distillery-interrupt");
        Runtime.getRuntime().addShutdownHook(hook);
        return () -> {
            closed.countDown();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // The hook is running: it was waiting for the countdown above and now lets the JVM end.
            }
        };
    }
}

package dev.distillery.serve;

import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.jboss.logging.Logger;

/**
 * Notices versions that another process (another replica, a training worker, a person copying folders)
 * added to the store, replaced or deleted, without a restart: every {@code interval} one daemon thread
 * checks the store against what is served ({@link ModelSessions#refresh()}). It polls rather than asking
 * the file system for change events: polling works the same on network file systems and object stores,
 * which have none. A change shows within one interval plus the time to load what changed.
 */
public final class StoreWatcher implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(StoreWatcher.class);

    private final ModelSessions sessions;
    private final ScheduledExecutorService thread;

    /**
     * Checks the store now and then every {@code interval} after the end of the previous check; a zero
     * interval turns watching off.
     *
     * @throws IllegalArgumentException for a negative interval
     */
    public static StoreWatcher start(ModelSessions sessions, Duration interval) {
        if (interval.isNegative()) {
            throw new IllegalArgumentException(
                    "distillery.serving.poll-interval must be >= 0 (0 turns watching the store off), got " + interval);
        }
        if (interval.isZero()) {
            LOG.info("watching the model store is off (distillery.serving.poll-interval=0)");
            return new StoreWatcher(sessions, null);
        }
        ScheduledExecutorService thread = Executors.newSingleThreadScheduledExecutor(task -> {
            Thread daemon = new Thread(task, "model-store-watcher");
            daemon.setDaemon(true);
            return daemon;
        });
        StoreWatcher watcher = new StoreWatcher(sessions, thread);
        thread.scheduleWithFixedDelay(watcher::poll, 0, interval.toNanos(), TimeUnit.NANOSECONDS);
        LOG.infof("watching the model store every %s", interval);
        return watcher;
    }

    private StoreWatcher(ModelSessions sessions, ScheduledExecutorService thread) {
        this.sessions = sessions;
        this.thread = thread;
    }

    /** One check of the store. Never throws: a failed check is logged, and the next one tries again. */
    public void poll() {
        try {
            sessions.refresh();
        } catch (RuntimeException e) {
            LOG.warnf(e, "checking the model store failed: %s", e.getMessage());
        }
    }

    /** Stops watching; a check in progress finishes first. */
    @Override
    public void close() throws InterruptedException {
        if (thread == null) {
            return;
        }
        thread.shutdown();
        if (!thread.awaitTermination(1, TimeUnit.MINUTES)) {
            LOG.warn("the model store watcher did not stop within a minute; it is a daemon and ends with the process");
        }
    }
}

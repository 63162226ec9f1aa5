package dev.distillery.jobs;

/** Stops the events of one watcher; the job itself goes on. */
@FunctionalInterface
public interface JobSubscription extends AutoCloseable {

    @Override
    void close();
}

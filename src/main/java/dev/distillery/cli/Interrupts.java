package dev.distillery.cli;

/**
 * Where a command following a job learns that the user pressed Ctrl-C: it registers what to do then
 * (stop following), and closes the registration once it has said where it left off.
 */
public interface Interrupts {

    /** Runs {@code action} when the user interrupts, until the returned registration is closed. */
    Registration onInterrupt(Runnable action);

    /** Ends a registration; the command has finished, whether or not it was interrupted. */
    interface Registration extends AutoCloseable {
        @Override
        void close();
    }
}

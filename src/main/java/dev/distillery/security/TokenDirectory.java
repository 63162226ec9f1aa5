package dev.distillery.security;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.jboss.logging.Logger;

/**
 * The access tokens of a directory, kept current: every {@code interval} one daemon thread reads the
 * directory again ({@link #reload()}), because Kubernetes updates a mounted Secret in place. Reading the
 * files' content rather than their modification times also catches an edit within the same clock tick, and
 * costs three small reads per interval, none on a call's path.
 *
 * <p>Fail closed: when a reload finds the directory missing, unreadable, invalid or without tokens, every
 * token is refused until a reload reads a valid set again (the log says why).
 */
public final class TokenDirectory implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(TokenDirectory.class);

    private final Path directory;
    private final ScheduledExecutorService thread;
    private volatile TokenSet tokens;

    /**
     * Reads {@code directory} now, then again every {@code interval}.
     *
     * @throws IllegalArgumentException when the directory holds no valid token set now ({@link TokenSet#read}),
     *     or the interval is not positive
     */
    public static TokenDirectory open(Path directory, Duration interval) {
        if (interval.isNegative() || interval.isZero()) {
            throw new IllegalArgumentException("distillery.auth.reload-interval must be positive, got " + interval);
        }
        TokenDirectory tokens = new TokenDirectory(directory, TokenSet.read(directory));
        tokens.thread.scheduleWithFixedDelay(tokens::reload, interval.toNanos(), interval.toNanos(),
                TimeUnit.NANOSECONDS);
        LOG.infof("access control on: %s from %s, read again every %s", tokens.tokens.counts(), directory, interval);
        return tokens;
    }

    private TokenDirectory(Path directory, TokenSet tokens) {
        this.directory = directory;
        this.tokens = tokens;
        this.thread = Executors.newSingleThreadScheduledExecutor(task -> {
            Thread daemon = new Thread(task, "token-directory-reader");
            daemon.setDaemon(true);
            return daemon;
        });
    }

    /** Reads the directory again; never throws. */
    public void reload() {
        TokenSet read;
        try {
            read = TokenSet.read(directory);
        } catch (RuntimeException e) {
            if (!tokens.equals(TokenSet.EMPTY)) {
                LOG.errorf("every call is refused until the tokens are fixed: %s", e.getMessage());
            }
            tokens = TokenSet.EMPTY;
            return;
        }
        if (!read.equals(tokens)) {
            LOG.infof("access tokens changed: now %s", read.counts());
            tokens = read;
        }
    }

    /** The role of {@code token} in the latest reading, or empty when it holds no such token. */
    public Optional<Role> roleOf(String token) {
        return tokens.roleOf(token);
    }

    /** Stops reading the directory; a reading in progress finishes first. */
    @Override
    public void close() throws InterruptedException {
        thread.shutdown();
        if (!thread.awaitTermination(1, TimeUnit.MINUTES)) {
            LOG.warn("the token directory reader did not stop within a minute; it is a daemon and ends with the process");
        }
    }
}

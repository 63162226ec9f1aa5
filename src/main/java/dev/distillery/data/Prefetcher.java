package dev.distillery.data;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntFunction;

/**
 * Loads items {@code 0 .. count-1} on background threads, a bounded number ahead of the consumer, and
 * hands them out in order: while the trainer works on batch {@code i}, batches {@code i+1 .. i+ahead} are
 * being read and preprocessed. At most {@code ahead} items are loading or waiting at any time, so memory
 * stays bounded whatever the dataset's size.
 *
 * <p>A load that throws rethrows from {@link #next()}. {@link #close()} cancels what is still loading and
 * stops the threads; it runs by itself once the last item is handed out.
 */
public final class Prefetcher<T> implements Iterator<T>, AutoCloseable {

    private static final AtomicInteger POOLS = new AtomicInteger();

    private final int count;
    private final IntFunction<T> load;
    private final ExecutorService threads;
    private final Deque<Future<T>> pending = new ArrayDeque<>();
    private int submitted;
    private int handedOut;

    /**
     * @param count items to load
     * @param threads background threads, at least 1
     * @param ahead items loading or loaded but not yet handed out, at least 1
     * @param load loads item {@code i}; called from the background threads, several at once
     */
    public Prefetcher(int count, int threads, int ahead, IntFunction<T> load) {
        if (threads < 1 || ahead < 1) {
            throw new IllegalArgumentException("threads and ahead must be >= 1, got " + threads + " and " + ahead);
        }
        this.count = count;
        this.load = load;
        int pool = POOLS.incrementAndGet();
        AtomicInteger thread = new AtomicInteger();
        ThreadFactory factory = task -> {
            Thread t = new Thread(task, "distillery-loader-" + pool + "-" + thread.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
        this.threads = Executors.newFixedThreadPool(Math.min(threads, Math.max(1, count)), factory);
        while (submitted < count && pending.size() < ahead) {
            submit();
        }
        if (!hasNext()) {
            close();
        }
    }

    private void submit() {
        int index = submitted++;
        pending.addLast(threads.submit(() -> load.apply(index)));
    }

    @Override
    public boolean hasNext() {
        return handedOut < count;
    }

    @Override
    public T next() {
        if (!hasNext()) {
            throw new NoSuchElementException();
        }
        Future<T> head = pending.pollFirst();
        if (head == null) {
            throw new IllegalStateException("the prefetcher was closed");
        }
        T item;
        try {
            item = head.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            close();
            throw new CancellationException("interrupted while waiting for data");
        } catch (ExecutionException e) {
            close();
            if (e.getCause() instanceof RuntimeException runtime) {
                throw runtime;
            }
            if (e.getCause() instanceof Error error) {
                throw error;
            }
            throw new IllegalStateException(e.getCause());
        }
        handedOut++;
        if (submitted < count) {
            submit();
        }
        if (!hasNext()) {
            close();
        }
        return item;
    }

    /** Cancels the loads still pending and waits for the threads to stop. */
    @Override
    public void close() {
        for (Future<T> future : pending) {
            future.cancel(true);
        }
        pending.clear();
        threads.shutdownNow();
        try {
            threads.awaitTermination(1, TimeUnit.MINUTES);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}

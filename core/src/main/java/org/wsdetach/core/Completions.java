package org.wsdetach.core;

import java.lang.System.Logger.Level;
import java.nio.channels.CompletionHandler;
import java.util.concurrent.CompletableFuture;

/**
 * Delivers the outcomes of a detached connection's reads and writes: on the calling thread while
 * completions nest at most {@value #MAX_INLINE_COMPLETIONS} deep, through the I/O loop beyond, so that a
 * handler which starts the next operation from {@code completed} cannot exhaust the stack.
 */
final class Completions {

    private static final System.Logger LOG = System.getLogger(Completions.class.getName());
    private static final int MAX_INLINE_COMPLETIONS = 16;

    /** Completion handlers currently running on each thread, nested in one another. */
    private static final ThreadLocal<int[]> DEPTH = ThreadLocal.withInitial(() -> new int[1]);

    /** Completes the futures of {@code read(ByteBuffer)} and {@code write(ByteBuffer)}. */
    static final CompletionHandler<Integer, CompletableFuture<Integer>> TO_FUTURE = new CompletionHandler<>() {
        @Override
        public void completed(Integer result, CompletableFuture<Integer> future) {
            future.complete(result);
        }

        @Override
        public void failed(Throwable failure, CompletableFuture<Integer> future) {
            future.completeExceptionally(failure);
        }
    };

    private Completions() {
    }

    static void deliver(IoLoop loop, CompletionHandler<Integer, Object> handler, Object attachment, int result,
                        Throwable failure) {
        int[] depth = DEPTH.get();
        if (depth[0] >= MAX_INLINE_COMPLETIONS && loop.execute(() -> invoke(handler, attachment, result, failure))) {
            return;
        }
        // Also reached when the loop is closed and can take no task: running the handler here is the
        // only way left to deliver the outcome.
        depth[0]++;
        try {
            invoke(handler, attachment, result, failure);
        } finally {
            depth[0]--;
        }
    }

    static void invoke(CompletionHandler<Integer, Object> handler, Object attachment, int result, Throwable failure) {
        try {
            if (failure == null) {
                handler.completed(result, attachment);
            } else {
                handler.failed(failure, attachment);
            }
        } catch (Throwable t) {
            LOG.log(Level.WARNING, "Completion handler of a detached connection threw", t);
        }
    }

    @SuppressWarnings("unchecked")
    static <A> CompletionHandler<Integer, Object> erase(CompletionHandler<Integer, ? super A> handler) {
        // Safe: the handler only ever gets back the attachment that was passed along with it.
        return (CompletionHandler<Integer, Object>) handler;
    }
}

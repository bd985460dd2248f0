package org.wsdetach.example.spring;

import org.wsdetach.DetachHandler;
import org.wsdetach.DetachedConnection;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.CompletionHandler;
import java.util.concurrent.CompletableFuture;

/**
 * Echoes the raw bytes of a detached connection until the client half-closes, then half-closes too and closes
 * the connection. It never blocks, so it runs on the thread that hands it the connection. Public, with a public
 * no-argument constructor, for {@link org.wsdetach.DetachOnPeerClose}.
 */
public class RawEchoHandler implements DetachHandler {

    private static final System.Logger LOG = System.getLogger(RawEchoHandler.class.getName());

    @Override
    public void onDetached(DetachedConnection connection) {
        echo(connection, ByteBuffer.allocate(16 * 1024));
    }

    /** One round: read what there is, write all of it back, and go on until the end of the stream. */
    private static void echo(DetachedConnection connection, ByteBuffer buffer) {
        read(connection, buffer.clear())
                .thenCompose(count -> count < 0
                        ? CompletableFuture.completedFuture(false)
                        : writeAll(connection, buffer.flip()).thenApply(written -> true))
                .whenComplete((more, failure) -> {
                    if (failure == null && more) {
                        // The connection bounds how deeply completions nest: this recursion is bounded too.
                        echo(connection, buffer);
                    } else {
                        finish(connection, failure);
                    }
                });
    }

    private static CompletableFuture<Integer> read(DetachedConnection connection, ByteBuffer buffer) {
        CompletableFuture<Integer> count = new CompletableFuture<>();
        try {
            connection.read(buffer, count, Completion.INSTANCE);
        } catch (RuntimeException e) {
            count.completeExceptionally(e);
        }
        return count;
    }

    /** Writes may be partial: writes until the buffer is drained. */
    private static CompletableFuture<Void> writeAll(DetachedConnection connection, ByteBuffer buffer) {
        CompletableFuture<Integer> count = new CompletableFuture<>();
        try {
            connection.write(buffer, count, Completion.INSTANCE);
        } catch (RuntimeException e) {
            count.completeExceptionally(e);
        }
        return count.thenCompose(written -> buffer.hasRemaining()
                ? writeAll(connection, buffer)
                : CompletableFuture.completedFuture(null));
    }

    private static void finish(DetachedConnection connection, Throwable failure) {
        try (connection) {
            if (failure == null) {
                // Every byte of the client has been echoed: end ours too.
                connection.shutdownOutput();
            } else {
                LOG.log(System.Logger.Level.DEBUG, "raw echo failed", failure);
            }
        } catch (IOException e) {
            LOG.log(System.Logger.Level.DEBUG, "closing the raw echo failed", e);
        }
    }

    /** Completes the future given as the attachment. */
    private enum Completion implements CompletionHandler<Integer, CompletableFuture<Integer>> {
        INSTANCE;

        @Override
        public void completed(Integer result, CompletableFuture<Integer> future) {
            future.complete(result);
        }

        @Override
        public void failed(Throwable failure, CompletableFuture<Integer> future) {
            future.completeExceptionally(failure);
        }
    }
}

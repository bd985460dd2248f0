package org.wsdetach.demo;

import org.wsdetach.DetachHandler;
import org.wsdetach.DetachedConnection;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.ByteBuffer;
import java.nio.channels.CompletionHandler;

/**
 * Echoes the raw bytes of a detached connection until the peer half-closes, then half-closes too and
 * closes the connection. It never blocks, so it runs on the container thread that hands it the connection.
 */
public final class RawEcho implements DetachHandler {

    private static final System.Logger LOG = System.getLogger(RawEcho.class.getName());
    private static final int BUFFER_SIZE = 64 * 1024;

    /** Used by {@link org.wsdetach.DetachOnPeerClose}, which creates one instance per session. */
    public RawEcho() {
    }

    @Override
    public void onDetached(DetachedConnection connection) {
        new Echo(connection).run();
    }

    /** One connection's loop: read into the buffer, write all of it back, read again. */
    private static final class Echo implements CompletionHandler<Integer, Void> {

        private final DetachedConnection connection;
        private final ByteBuffer buffer = ByteBuffer.allocate(BUFFER_SIZE);
        private boolean reading = true;

        Echo(DetachedConnection connection) {
            this.connection = connection;
        }

        void run() {
            connection.read(buffer, null, this);
        }

        @Override
        public void completed(Integer count, Void unused) {
            if (reading) {
                if (count < 0) {
                    finish();
                    return;
                }
                buffer.flip();
            }
            // Writes may be partial: keep writing until the buffer is drained, only then read again. Starting
            // the next operation from here is fine: the connection bounds how deep completions nest.
            reading = !buffer.hasRemaining();
            if (reading) {
                buffer.clear();
                connection.read(buffer, null, this);
            } else {
                connection.write(buffer, null, this);
            }
        }

        @Override
        public void failed(Throwable failure, Void unused) {
            LOG.log(Level.DEBUG, "raw echo failed", failure);
            try {
                connection.close();
            } catch (IOException e) {
                LOG.log(Level.DEBUG, "closing after a failure failed", e);
            }
        }

        /** The peer has half-closed, and every byte it sent has been echoed. */
        private void finish() {
            try (connection) {
                connection.shutdownOutput();
            } catch (IOException e) {
                LOG.log(Level.DEBUG, "closing the raw echo failed", e);
            }
        }
    }
}

package org.wsdetach.quickstart;

import org.wsdetach.DetachHandler;
import org.wsdetach.DetachedConnection;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.CompletionHandler;

// README: non-blocking
/**
 * Echoes every byte back with non-blocking I/O until the client half-closes, then half-closes too and closes.
 * It never blocks, so it may run on the container's thread that hands it the connection.
 */
public final class NonBlockingEcho implements DetachHandler, CompletionHandler<Integer, ByteBuffer> {

    private DetachedConnection connection;
    private boolean reading;

    @Override
    public void onDetached(DetachedConnection detached) {
        connection = detached;
        read(ByteBuffer.allocate(16 * 1024));
    }

    private void read(ByteBuffer buffer) {
        reading = true;
        connection.read(buffer.clear(), buffer, this);  // the first byte is the first one after the close frame
    }

    @Override
    public void completed(Integer count, ByteBuffer buffer) {
        if (reading && count < 0) {                     // the client half-closed: every byte has been echoed
            try (DetachedConnection closing = connection) {
                closing.shutdownOutput();               // our FIN (over wss: TLS close_notify, then FIN)
            } catch (IOException e) {
                System.getLogger(getClass().getName()).log(System.Logger.Level.DEBUG, "closing failed", e);
            }
            return;
        }
        if (reading) {
            buffer.flip();
        }
        if (buffer.hasRemaining()) {                    // a write may be partial: write the rest, then read
            reading = false;
            connection.write(buffer, buffer, this);
        } else {
            read(buffer);
        }
    }

    @Override
    public void failed(Throwable failure, ByteBuffer buffer) {
        try {
            connection.close();                         // closes the TCP connection
        } catch (IOException e) {
            failure.addSuppressed(e);
        }
        System.getLogger(getClass().getName()).log(System.Logger.Level.DEBUG, "echo failed", failure);
    }
}
// README: end

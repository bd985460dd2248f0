package org.wsdetach.quickstart;

import org.wsdetach.DetachHandler;
import org.wsdetach.DetachedConnection;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.Channels;

// README: blocking
/**
 * Echoes every byte back with blocking streams, on a thread of its own: the thread that calls
 * {@link #onDetached} is the container's and must not block. Public with a public no-argument constructor, as
 * {@code @DetachOnPeerClose} needs: it makes one instance per session.
 */
public final class BlockingEcho implements DetachHandler {

    @Override
    public void onDetached(DetachedConnection connection) {
        new Thread(() -> echo(connection), "blocking-echo").start();
    }

    private static void echo(DetachedConnection connection) {
        try (connection) {
            InputStream in = Channels.newInputStream(connection);
            OutputStream out = Channels.newOutputStream(connection);
            in.transferTo(out);                         // until the client half-closes (end of stream)
            out.flush();
            connection.shutdownOutput();                // our FIN; then the connection closes
        } catch (IOException e) {
            System.getLogger(BlockingEcho.class.getName()).log(System.Logger.Level.DEBUG, "echo failed", e);
        }
    }
}
// README: end

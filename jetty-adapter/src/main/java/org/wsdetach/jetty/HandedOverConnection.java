package org.wsdetach.jetty;

import org.eclipse.jetty.io.AbstractConnection;
import org.eclipse.jetty.io.EndPoint;

import java.util.concurrent.Executor;
import java.util.concurrent.TimeoutException;

/**
 * The connection Jetty's end point has once the adapter has handed it over, in place of Jetty's WebSocket
 * connection: that one, its session and the HTTP connection it was upgraded from are done with, and would
 * otherwise stay reachable through the end point for the detached connection's whole life. It never reads (the
 * detached connection reads the channel), and Jetty closing it, or timing it out, leaves the detached connection
 * open: that is its handler's, as it was while Jetty's WebSocket connection was there.
 */
final class HandedOverConnection extends AbstractConnection {

    HandedOverConnection(EndPoint endPoint, Executor executor) {
        super(endPoint, executor);
    }

    @Override
    public void onFillable() {
        // Never asked for: nothing here is interested in filling.
    }

    @Override
    public void close() {
        // The detached connection's handler closes it.
    }

    @Override
    public boolean onIdleExpired(TimeoutException timeout) {
        return false;
    }
}

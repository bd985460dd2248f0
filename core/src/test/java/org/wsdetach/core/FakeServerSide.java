package org.wsdetach.core;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.channels.ServerSocketChannel;

/**
 * What the core's connection tests start from: a server's {@link DetachableConnection} over a
 * {@link FakeContainer} that hands over connections to a loopback listener, with the threads of its own.
 * Closing it closes the threads, the listener and every channel the container made.
 */
final class FakeServerSide implements AutoCloseable {

    final DetachThreads threads;
    final FakeContainer container;
    final DetachableConnection connection;
    private final ServerSocketChannel listener;

    FakeServerSide(String threadNames) throws IOException {
        threads = DetachThreads.open(threadNames);
        listener = ServerSocketChannel.open().bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        container = new FakeContainer(listener);
        connection = DetachableConnection.forServer(container, threads);
        container.connection = connection;
    }

    @Override
    public void close() throws IOException {
        threads.close();
        listener.close();
        container.closeChannels();
    }
}

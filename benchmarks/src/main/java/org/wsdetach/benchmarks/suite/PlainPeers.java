package org.wsdetach.benchmarks.suite;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLServerSocket;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;

/**
 * The baselines of the detached connection: the same sink and echo ({@link RawHandlers}) with the same 64 KiB
 * buffers, over a plain blocking {@link SocketChannel} or a JDK {@link javax.net.ssl.SSLSocket} of the same
 * server {@link SSLContext}, a thread per connection.
 */
final class PlainPeers {

    private PlainPeers() {
    }

    /** Serves connections, each on a thread of its own, until closed. */
    abstract static class Listener implements AutoCloseable {
        private final AutoCloseable listener;

        Listener(AutoCloseable listener) {
            this.listener = listener;
        }

        abstract int port();

        final void startAccepting(String name) {
            Thread acceptor = new Thread(() -> {
                try {
                    while (true) {
                        acceptOne(name);
                    }
                } catch (IOException e) {
                    // The listener is closed: the baseline is over.
                }
            }, name + "-accept");
            acceptor.setDaemon(true);
            acceptor.start();
        }

        abstract void acceptOne(String name) throws IOException;

        static void spawn(String name, IoTask task) {
            Thread thread = new Thread(() -> {
                try {
                    task.run();
                } catch (IOException e) {
                    // The client went away: so does this connection.
                }
            }, name);
            thread.setDaemon(true);
            thread.start();
        }

        @Override
        public void close() throws Exception {
            listener.close();
        }
    }

    interface IoTask {
        void run() throws IOException;
    }

    /** A plain {@link SocketChannel} sink or echo. */
    static final class Sockets extends Listener {
        private final ServerSocketChannel server;
        private final boolean echo;

        private Sockets(ServerSocketChannel server, boolean echo) {
            super(server);
            this.server = server;
            this.echo = echo;
        }

        static Sockets start(boolean echo) throws IOException {
            ServerSocketChannel server = ServerSocketChannel.open();
            server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            Sockets sockets = new Sockets(server, echo);
            sockets.startAccepting(echo ? "socket-echo" : "socket-sink");
            return sockets;
        }

        @Override
        int port() {
            return server.socket().getLocalPort();
        }

        @Override
        void acceptOne(String name) throws IOException {
            SocketChannel channel = server.accept();
            channel.socket().setTcpNoDelay(true);
            spawn(name, () -> {
                try (channel) {
                    ByteBuffer buffer = ByteBuffer.allocate(RawHandlers.BULK_BUFFER);
                    if (echo) {
                        while (channel.read(buffer) >= 0) {
                            buffer.flip();
                            while (buffer.hasRemaining()) {
                                channel.write(buffer);
                            }
                            buffer.clear();
                        }
                    } else {
                        RawHandlers.SinkCount count = new RawHandlers.SinkCount();
                        while (channel.read(buffer) >= 0) {
                            if (count.consume(buffer.flip())) {
                                buffer.clear().putLong(count.expected()).flip();
                                count.reset();
                                while (buffer.hasRemaining()) {
                                    channel.write(buffer);
                                }
                            }
                            buffer.clear();
                        }
                    }
                }
            });
        }
    }

    /** A JDK {@code SSLSocket} sink, with the server context the containers use. */
    static final class TlsSink extends Listener {
        private final SSLServerSocket server;

        private TlsSink(SSLServerSocket server) {
            super(server);
            this.server = server;
        }

        static TlsSink start(SSLContext tls) throws IOException {
            ServerSocket server = tls.getServerSocketFactory().createServerSocket(0, 50,
                    InetAddress.getLoopbackAddress());
            TlsSink sink = new TlsSink((SSLServerSocket) server);
            sink.startAccepting("tls-socket-sink");
            return sink;
        }

        @Override
        int port() {
            return server.getLocalPort();
        }

        @Override
        void acceptOne(String name) throws IOException {
            Socket socket = server.accept();
            socket.setTcpNoDelay(true);
            spawn(name, () -> {
                try (socket) {
                    InputStream in = socket.getInputStream();
                    OutputStream out = socket.getOutputStream();
                    byte[] bytes = new byte[RawHandlers.BULK_BUFFER];
                    ByteBuffer buffer = ByteBuffer.wrap(bytes);
                    RawHandlers.SinkCount count = new RawHandlers.SinkCount();
                    for (int n; (n = in.read(bytes)) >= 0; ) {
                        if (count.consume(buffer.clear().limit(n))) {
                            buffer.clear().putLong(count.expected());
                            count.reset();
                            out.write(bytes, 0, Long.BYTES);
                        }
                    }
                }
            });
        }
    }
}

package org.wsdetach.benchmarks.suite;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The scale run's load, a JVM of its own (one thread, one selector): opens {@code sessions} WebSocket sessions
 * to {@code /bench} (at most {@code concurrency} handshakes at a time, untimed), then sends {@code detach-scale}
 * on all of them at once and times until every one has answered the server's close frame and had 1 KiB of raw
 * bytes echoed over its detached connection. Speaks on standard output, one line each: {@code UPGRADED n},
 * then {@code ECHOED ok failed seconds}; then waits for the line {@code close} on standard input, closes every
 * connection and says {@code CLOSED}.
 *
 * <p>Usage: {@code ScaleClient port sessions concurrency}.
 */
public final class ScaleClient {

    private static final byte[] UPGRADE = ("GET /bench HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
            + "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
            .getBytes(StandardCharsets.US_ASCII);
    /** The text {@code detach-scale}, masked with the all-zero key. */
    private static final byte[] DETACH = frame("detach-scale".getBytes(StandardCharsets.US_ASCII));
    private static final byte[] CLOSE_1000 = {(byte) 0x88, (byte) 0x82, 0, 0, 0, 0, 0x03, (byte) 0xe8};
    private static final int ECHO_BYTES = 1024;
    private static final long TIMEOUT_NANOS = TimeUnit.SECONDS.toNanos(120);

    private enum Stage { CONNECTING, UPGRADING, UPGRADED, AWAITING_CLOSE, ECHOING, DONE, FAILED }

    private static final class Connection {
        final SocketChannel channel;
        final ByteBuffer in = ByteBuffer.allocate(2048);
        ByteBuffer out = ByteBuffer.allocate(0);
        Stage stage = Stage.CONNECTING;
        int echoed;

        Connection(SocketChannel channel) {
            this.channel = channel;
        }
    }

    private final Selector selector;
    private final int port;
    private final byte[] echoBytes = new byte[ECHO_BYTES];
    private int upgraded;
    private int finished;
    private int failed;
    /** Why connections failed: the stage and the cause, counted, for standard error. */
    private final java.util.Map<String, Integer> failures = new java.util.TreeMap<>();

    private ScaleClient(int port) throws IOException {
        this.selector = Selector.open();
        this.port = port;
        for (int i = 0; i < echoBytes.length; i++) {
            echoBytes[i] = (byte) (i * 31 + 7);
        }
    }

    public static void main(String[] args) throws IOException {
        int port = Integer.parseInt(args[0]);
        int sessions = Integer.parseInt(args[1]);
        int concurrency = Integer.parseInt(args[2]);
        PrintStream out = System.out;
        ScaleClient client = new ScaleClient(port);
        List<Connection> connections = client.upgradeAll(sessions, concurrency);
        out.println("UPGRADED " + client.upgraded);
        out.flush();
        long start = System.nanoTime();
        client.detachAll(connections);
        double seconds = (System.nanoTime() - start) / 1e9;
        for (Connection connection : connections) {
            if (connection.stage != Stage.DONE && connection.stage != Stage.FAILED) {
                client.failures.merge("while " + connection.stage.name().toLowerCase(java.util.Locale.ROOT)
                        + ": no answer in time", 1, Integer::sum);
            }
        }
        out.println("ECHOED " + client.finished + " " + (sessions - client.finished) + " " + seconds);
        out.flush();
        client.failures.forEach((why, count) -> System.err.println("scale client: " + count + " failed " + why));
        BufferedReader commands = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.US_ASCII));
        for (String line; (line = commands.readLine()) != null && !line.equals("close"); ) {
            // Only "close" means anything.
        }
        for (Connection connection : connections) {
            connection.channel.close();
        }
        out.println("CLOSED");
        out.flush();
    }

    private List<Connection> upgradeAll(int sessions, int concurrency) throws IOException {
        List<Connection> connections = new ArrayList<>(sessions);
        long deadline = System.nanoTime() + TIMEOUT_NANOS;
        int started = 0;
        while (upgraded + failed < sessions && System.nanoTime() < deadline) {
            while (started < sessions && started - upgraded - failed < concurrency) {
                SocketChannel channel = SocketChannel.open();
                channel.configureBlocking(false);
                channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
                Connection connection = new Connection(channel);
                connections.add(connection);
                channel.connect(new InetSocketAddress(BenchServer.HOST, port));
                channel.register(selector, SelectionKey.OP_CONNECT, connection);
                started++;
            }
            selectOnce();
        }
        return connections;
    }

    private void detachAll(List<Connection> connections) throws IOException {
        for (Connection connection : connections) {
            if (connection.stage == Stage.UPGRADED) {
                connection.stage = Stage.AWAITING_CLOSE;
                send(connection, DETACH);
            }
        }
        long deadline = System.nanoTime() + TIMEOUT_NANOS;
        while (finished + failed < connections.size() && System.nanoTime() < deadline) {
            selectOnce();
        }
    }

    private void selectOnce() throws IOException {
        selector.select(100);
        Iterator<SelectionKey> keys = selector.selectedKeys().iterator();
        while (keys.hasNext()) {
            SelectionKey key = keys.next();
            keys.remove();
            Connection connection = (Connection) key.attachment();
            try {
                step(key, connection);
            } catch (IOException e) {
                fail(connection, e.toString());
            }
        }
    }

    private void step(SelectionKey key, Connection connection) throws IOException {
        if (!key.isValid()) {
            return;
        }
        if (key.isConnectable() && connection.channel.finishConnect()) {
            connection.stage = Stage.UPGRADING;
            send(connection, UPGRADE);
            return;
        }
        if (key.isWritable()) {
            flush(connection);
        }
        if (key.isValid() && key.isReadable()) {
            if (connection.channel.read(connection.in) < 0) {
                fail(connection, "end of stream");
                return;
            }
            consume(connection);
        }
    }

    private void consume(Connection connection) throws IOException {
        ByteBuffer in = connection.in;
        switch (connection.stage) {
            case UPGRADING -> {
                String head = new String(in.array(), 0, in.position(), StandardCharsets.US_ASCII);
                int end = head.indexOf("\r\n\r\n");
                if (end >= 0) {
                    if (!head.startsWith("HTTP/1.1 101")) {
                        fail(connection, "no upgrade: " + head.lines().findFirst().orElse(""));
                        return;
                    }
                    in.flip().position(end + 4);
                    in.compact();
                    connection.stage = Stage.UPGRADED;
                    upgraded++;
                }
            }
            case AWAITING_CLOSE -> {
                // The server's close frame: 0x88, a length under 126 (a status and a short reason), the payload.
                if (in.position() >= 2 && in.position() >= 2 + (in.get(1) & 0x7f)) {
                    if ((in.get(0) & 0xff) != 0x88) {
                        fail(connection, "not a close frame: " + Integer.toHexString(in.get(0) & 0xff));
                        return;
                    }
                    in.flip().position(2 + (in.get(1) & 0x7f));
                    in.compact();
                    connection.stage = Stage.ECHOING;
                    byte[] reply = new byte[CLOSE_1000.length + ECHO_BYTES];
                    System.arraycopy(CLOSE_1000, 0, reply, 0, CLOSE_1000.length);
                    System.arraycopy(echoBytes, 0, reply, CLOSE_1000.length, ECHO_BYTES);
                    send(connection, reply);
                    consume(connection);
                }
            }
            case ECHOING -> {
                in.flip();
                while (in.hasRemaining()) {
                    if (in.get() != echoBytes[connection.echoed++]) {
                        fail(connection, "wrong echo");
                        return;
                    }
                }
                in.clear();
                if (connection.echoed == ECHO_BYTES) {
                    connection.stage = Stage.DONE;
                    finished++;
                }
            }
            default -> {
                if (in.position() > 0) {
                    fail(connection, "unexpected bytes");
                }
            }
        }
    }

    private void send(Connection connection, byte[] bytes) throws IOException {
        connection.out = ByteBuffer.wrap(bytes);
        flush(connection);
    }

    private void flush(Connection connection) throws IOException {
        connection.channel.write(connection.out);
        SelectionKey key = connection.channel.keyFor(selector);
        key.interestOps(connection.out.hasRemaining()
                ? SelectionKey.OP_READ | SelectionKey.OP_WRITE : SelectionKey.OP_READ);
    }

    private void fail(Connection connection, String why) throws IOException {
        if (connection.stage != Stage.FAILED && connection.stage != Stage.DONE) {
            failures.merge("while " + connection.stage.name().toLowerCase(java.util.Locale.ROOT) + ": " + why, 1,
                    Integer::sum);
            connection.stage = Stage.FAILED;
            failed++;
        }
        connection.channel.close();
    }

    private static byte[] frame(byte[] text) {
        byte[] frame = new byte[6 + text.length];
        frame[0] = (byte) 0x81;
        frame[1] = (byte) (0x80 | text.length);
        System.arraycopy(text, 0, frame, 6, text.length);
        return frame;
    }
}

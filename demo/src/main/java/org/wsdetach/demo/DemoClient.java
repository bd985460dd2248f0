package org.wsdetach.demo;

import org.wsdetach.demo.Frames.Close;
import org.wsdetach.demo.Frames.Frame;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ProtocolException;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A minimal RFC 6455 client for the demo server's protocol, over a blocking {@link Socket}: it exchanges
 * text messages, then detaches the connection from either side and checks the server's raw echo of
 * pseudo-random bytes. It reads exactly the bytes each frame announces, so the first byte after the
 * server's close frame is read as raw data, as a detach requires.
 *
 * <p>One connection, one detach: afterwards the client only needs {@link #close()}.
 */
public final class DemoClient implements Closeable {

    /** Which side sends the first close frame. */
    public enum Mode {
        /** The client sends the text {@code detach}; the server sends the first close frame. */
        SERVER_DETACH("server-detach"),
        /** The client sends the first close frame, raw bytes right behind it. */
        CLIENT_DETACH("client-detach");

        private final String label;

        Mode(String label) {
            this.label = label;
        }

        @Override
        public String toString() {
            return label;
        }

        /** The mode named {@code label}, as {@link #toString()} spells it. */
        public static Mode of(String label) {
            for (Mode mode : values()) {
                if (mode.label.equals(label)) {
                    return mode;
                }
            }
            throw new IllegalArgumentException("unknown mode: " + label);
        }
    }

    /**
     * What one detach measured.
     *
     * @param mode         which side closed first
     * @param bytes        the raw bytes sent and echoed
     * @param latencyNanos from sending {@code detach} (server-detach) or our close frame (client-detach)
     *                     to receiving the first echoed raw byte, or the end of the stream if none was sent
     * @param echoNanos    from the first raw byte sent to the end of the echo
     */
    public record Result(Mode mode, long bytes, long latencyNanos, long echoNanos) {

        /** @return the echo's throughput in MiB/s */
        public double mibPerSecond() {
            return bytes / (1024.0 * 1024.0) / (echoNanos / 1e9);
        }
    }

    private static final String ACCEPT_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    private static final int MAX_RESPONSE_HEAD = 8 * 1024;
    private static final int MAX_TEXT = 1024 * 1024;
    private static final int CHUNK = 64 * 1024;
    private static final SecureRandom RANDOM = new SecureRandom();

    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;
    private final Duration timeout;

    private DemoClient(Socket socket, Duration timeout) throws IOException {
        this.socket = socket;
        this.in = socket.getInputStream();
        this.out = socket.getOutputStream();
        this.timeout = timeout;
    }

    /**
     * Connects and performs the opening handshake.
     *
     * @param uri     a {@code ws://} address, such as {@code ws://127.0.0.1:8025/echo}
     * @param timeout the limit for connecting and for each wait for the server
     * @return the connected client
     * @throws IOException if the connection or the handshake fails
     */
    public static DemoClient connect(URI uri, Duration timeout) throws IOException {
        return connect(uri, timeout, null);
    }

    /**
     * Connects and performs the opening handshake, over TLS for a {@code wss://} address.
     *
     * @param uri     a {@code ws://} or {@code wss://} address, such as {@code ws://127.0.0.1:8025/echo}
     * @param timeout the limit for connecting and for each wait for the server
     * @param tls     the TLS context trusting the server, required for {@code wss://}
     * @return the connected client
     * @throws IOException if the connection, the TLS handshake or the WebSocket handshake fails
     */
    public static DemoClient connect(URI uri, Duration timeout, SSLContext tls) throws IOException {
        boolean secure = "wss".equals(uri.getScheme());
        if (!secure && !"ws".equals(uri.getScheme()) || uri.getHost() == null) {
            throw new IllegalArgumentException("not a ws:// or wss:// address: " + uri);
        }
        if (secure && tls == null) {
            throw new IllegalArgumentException("a wss:// address needs a TLS context that trusts the server");
        }
        int port = uri.getPort() != -1 ? uri.getPort() : secure ? 443 : 80;
        String path = uri.getRawPath().isEmpty() ? "/" : uri.getRawPath();
        String target = uri.getRawQuery() == null ? path : path + "?" + uri.getRawQuery();
        int millis = Math.toIntExact(timeout.toMillis());
        Socket socket = new Socket();
        try {
            socket.setTcpNoDelay(true);
            socket.setSoTimeout(millis);
            socket.connect(new InetSocketAddress(uri.getHost(), port), millis);
            if (secure) {
                SSLSocket tlsSocket = (SSLSocket) tls.getSocketFactory()
                        .createSocket(socket, uri.getHost(), port, true);
                tlsSocket.startHandshake();
                socket = tlsSocket;
            }
            DemoClient client = new DemoClient(socket, timeout);
            client.handshake(uri.getHost() + ":" + port, target);
            return client;
        } catch (IOException | RuntimeException e) {
            socket.close();
            throw e;
        }
    }

    /** Sends a text message. */
    public void sendText(String text) throws IOException {
        out.write(Frames.masked(Frames.TEXT, text.getBytes(StandardCharsets.UTF_8), RANDOM));
    }

    /** Reads the next message, which must be a text message. */
    public String readText() throws IOException {
        Frame frame = Frames.read(in, MAX_TEXT);
        if (frame.opcode() != Frames.TEXT) {
            throw new ProtocolException("expected a text message, got close " + Frames.parseClose(frame.payload()));
        }
        return Frames.utf8(frame.payload(), 0);
    }

    /**
     * Detaches the connection and has the server echo {@code rawBytes} pseudo-random bytes over it: sends
     * them while reading the echo, half-closes after the last one, reads to the end of the stream and
     * checks that the echo equals what was sent.
     *
     * @param mode     which side sends the first close frame
     * @param rawBytes how many raw bytes to send, 0 or more
     * @return the measurements
     * @throws IOException if the close exchange deviates from the protocol, the echo differs, or a wait
     *                     for the server times out
     */
    public Result detach(Mode mode, long rawBytes) throws IOException {
        if (rawBytes < 0) {
            throw new IllegalArgumentException("rawBytes must not be negative: " + rawBytes);
        }
        long seed = RANDOM.nextLong();
        // Both streams cost a megabyte of random bytes: made before the clock starts.
        RepeatingRandomBytes source = new RepeatingRandomBytes(seed);
        RepeatingRandomBytes expected = new RepeatingRandomBytes(seed);
        long start = System.nanoTime();
        if (mode == Mode.SERVER_DETACH) {
            sendText("detach");
            Close close = awaitClose();
            if (close.status() != Frames.NORMAL_CLOSURE || !close.reason().equals("detach")) {
                throw new ProtocolException("expected close 1000 \"detach\", got " + close);
            }
        }
        long echoStart = System.nanoTime();
        FutureTask<Void> sending = new FutureTask<>(() -> {
            sendRaw(rawBytes, source);
            return null;
        });
        Thread sender = new Thread(sending, "demo-client-sender");
        // Never keeps the JVM alive: a sender stuck in a write ends when close() closes the socket.
        sender.setDaemon(true);
        sender.start();
        if (mode == Mode.CLIENT_DETACH) {
            Close close = awaitClose();
            if (close.status() != Frames.NORMAL_CLOSURE) {
                throw new ProtocolException("expected the close reply 1000, got " + close);
            }
        }
        byte[] buffer = new byte[CHUNK];
        long received = 0;
        long firstByte = 0;
        for (int count; (count = in.read(buffer)) != -1; received += count) {
            if (received == 0) {
                firstByte = System.nanoTime();
            }
            if (count > rawBytes - received) {
                throw new ProtocolException("echo longer than the " + rawBytes + " bytes sent");
            }
            int at = expected.mismatch(buffer, 0, count);
            if (at >= 0) {
                throw new IOException("echo differs from the bytes sent at byte " + (received + at));
            }
        }
        long end = System.nanoTime();
        if (received == 0) {
            firstByte = end;
        }
        if (received != rawBytes) {
            throw new EOFException("echo ended after " + received + " of " + rawBytes + " bytes");
        }
        await(sending);
        return new Result(mode, rawBytes, firstByte - start, end - echoStart);
    }

    /** Closes the connection. */
    @Override
    public void close() throws IOException {
        socket.close();
    }

    private void handshake(String hostAndPort, String target) throws IOException {
        byte[] nonce = new byte[16];
        RANDOM.nextBytes(nonce);
        String key = Base64.getEncoder().encodeToString(nonce);
        out.write(("GET " + target + " HTTP/1.1\r\n"
                + "Host: " + hostAndPort + "\r\n"
                + "Upgrade: websocket\r\n"
                + "Connection: Upgrade\r\n"
                + "Sec-WebSocket-Key: " + key + "\r\n"
                + "Sec-WebSocket-Version: 13\r\n"
                + "\r\n").getBytes(StandardCharsets.US_ASCII));
        List<String> head = readResponseHead();
        if (head.isEmpty() || !head.get(0).matches("HTTP/1\\.1 101( .*)?")) {
            throw new ProtocolException("upgrade refused: " + (head.isEmpty() ? "empty response" : head.get(0)));
        }
        Map<String, String> headers = new HashMap<>();
        for (String line : head.subList(1, head.size())) {
            int colon = line.indexOf(':');
            if (colon <= 0) {
                throw new ProtocolException("malformed header line: " + line);
            }
            headers.merge(line.substring(0, colon).trim().toLowerCase(Locale.ROOT),
                    line.substring(colon + 1).trim(), (first, second) -> first + ", " + second);
        }
        if (!"websocket".equalsIgnoreCase(headers.get("upgrade"))) {
            throw new ProtocolException("Upgrade header is not websocket: " + headers.get("upgrade"));
        }
        if (!List.of(headers.getOrDefault("connection", "").toLowerCase(Locale.ROOT).split("\\s*,\\s*"))
                .contains("upgrade")) {
            throw new ProtocolException("Connection header lacks upgrade: " + headers.get("connection"));
        }
        if (!acceptFor(key).equals(headers.get("sec-websocket-accept"))) {
            throw new ProtocolException("wrong Sec-WebSocket-Accept: " + headers.get("sec-websocket-accept"));
        }
        for (String unrequested : List.of("sec-websocket-extensions", "sec-websocket-protocol")) {
            if (headers.containsKey(unrequested)) {
                throw new ProtocolException("server chose an unrequested " + unrequested + ": "
                        + headers.get(unrequested));
            }
        }
    }

    /** Reads the status line and headers, a byte at a time so as not to consume what follows them. */
    private List<String> readResponseHead() throws IOException {
        List<String> lines = new ArrayList<>();
        StringBuilder line = new StringBuilder();
        for (int size = 0; size < MAX_RESPONSE_HEAD; size++) {
            int b = in.read();
            if (b == -1) {
                throw new EOFException("connection ended inside the HTTP response");
            }
            if (b != '\n') {
                line.append((char) b);
                continue;
            }
            if (line.length() == 0 || line.charAt(line.length() - 1) != '\r') {
                throw new ProtocolException("HTTP response line not ended by CRLF");
            }
            line.setLength(line.length() - 1);
            if (line.length() == 0) {
                return lines;
            }
            lines.add(line.toString());
            line.setLength(0);
        }
        throw new ProtocolException("HTTP response head longer than " + MAX_RESPONSE_HEAD + " bytes");
    }

    private static String acceptFor(String key) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-1")
                    .digest((key + ACCEPT_GUID).getBytes(StandardCharsets.US_ASCII));
            return Base64.getEncoder().encodeToString(digest);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime has SHA-1", e);
        }
    }

    /** Reads frames up to the server's close frame; text messages still in flight before it are dropped. */
    private Close awaitClose() throws IOException {
        Frame frame;
        do {
            frame = Frames.read(in, MAX_TEXT);
        } while (frame.opcode() != Frames.CLOSE);
        return Frames.parseClose(frame.payload());
    }

    private void sendRaw(long count, RepeatingRandomBytes source) throws IOException {
        byte[] chunk = new byte[CHUNK];
        // Our close frame shares its write, and usually its TCP segment, with the first raw bytes: the
        // server must find where the frame ends itself.
        byte[] close = Frames.close(Frames.NORMAL_CLOSURE, RANDOM);
        System.arraycopy(close, 0, chunk, 0, close.length);
        int used = close.length;
        long left = count;
        // At least one write: with no raw bytes at all, the close frame still has to go out.
        do {
            int length = (int) Math.min(chunk.length - used, left);
            source.fill(chunk, used, length);
            out.write(chunk, 0, used + length);
            left -= length;
            used = 0;
        } while (left > 0);
        // Over wss a TLS close_notify, which the server reads as the end of the stream as it does a FIN.
        socket.shutdownOutput();
    }

    private void await(FutureTask<Void> sending) throws IOException {
        try {
            sending.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof IOException io ? io : new IOException(e.getCause());
        } catch (TimeoutException e) {
            throw new SocketTimeoutException("sending did not finish within " + timeout);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while sending");
        }
    }
}

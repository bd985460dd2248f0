package org.wsdetach.benchmarks.suite;

import javax.net.SocketFactory;
import javax.net.ssl.SSLSocket;
import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;

/**
 * A minimal blocking WebSocket client over a plain or TLS socket, the suite's load on every container: its own
 * cost is a copy per frame, the same whatever the server. Frames go out masked with the all-zero key, so the
 * payload is sent as it is.
 */
final class WsClient implements AutoCloseable {

    static final int TEXT = 1;
    static final int BINARY = 2;
    static final int CLOSE = 8;
    static final int PING = 9;
    static final int PONG = 10;

    private static final byte[] CLOSE_1000 = {(byte) 0x88, (byte) 0x82, 0, 0, 0, 0, 0x03, (byte) 0xe8};
    private static final byte[] EMPTY_PONG = {(byte) 0x8a, (byte) 0x80, 0, 0, 0, 0};

    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;
    private byte[] frame = new byte[64 * 1024 + 14];
    private byte[] payload = new byte[64 * 1024];
    private int payloadLength;

    private WsClient(Socket socket) throws IOException {
        this.socket = socket;
        this.in = new BufferedInputStream(socket.getInputStream(), 64 * 1024);
        this.out = socket.getOutputStream();
    }

    /** Opens a WebSocket session to {@code /bench} on 127.0.0.1:{@code port} made by {@code sockets}. */
    static WsClient open(SocketFactory sockets, int port) throws IOException {
        Socket socket = sockets.createSocket();
        try {
            socket.setTcpNoDelay(true);
            socket.setSoTimeout(30_000);
            socket.connect(new InetSocketAddress(BenchServer.HOST, port), 10_000);
            if (socket instanceof SSLSocket tls) {
                tls.startHandshake();
            }
            WsClient client = new WsClient(socket);
            client.upgrade();
            return client;
        } catch (IOException | RuntimeException e) {
            socket.close();
            throw e;
        }
    }

    private void upgrade() throws IOException {
        out.write(("GET /bench HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII));
        StringBuilder head = new StringBuilder();
        while (!head.toString().endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) {
                throw new EOFException("end of stream in the handshake: " + head);
            }
            head.append((char) b);
        }
        if (!head.toString().startsWith("HTTP/1.1 101")) {
            throw new IOException("no upgrade: " + head);
        }
    }

    Socket socket() {
        return socket;
    }

    InputStream in() {
        return in;
    }

    OutputStream out() {
        return out;
    }

    void sendText(String text) throws IOException {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        send(TEXT, bytes, bytes.length);
    }

    /** Sends one unfragmented frame of {@code opcode} with the first {@code length} bytes of {@code bytes}. */
    void send(int opcode, byte[] bytes, int length) throws IOException {
        if (frame.length < length + 14) {
            frame = new byte[length + 14];
        }
        int at = 0;
        frame[at++] = (byte) (0x80 | opcode);
        if (length < 126) {
            frame[at++] = (byte) (0x80 | length);
        } else if (length < 65536) {
            frame[at++] = (byte) (0x80 | 126);
            frame[at++] = (byte) (length >>> 8);
            frame[at++] = (byte) length;
        } else {
            frame[at++] = (byte) (0x80 | 127);
            for (int shift = 56; shift >= 0; shift -= 8) {
                frame[at++] = (byte) ((long) length >>> shift);
            }
        }
        for (int i = 0; i < 4; i++) {
            frame[at++] = 0;
        }
        System.arraycopy(bytes, 0, frame, at, length);
        out.write(frame, 0, at + length);
    }

    /** Reads one unfragmented server frame; its payload is then {@link #payload()}. @return its opcode */
    int read() throws IOException {
        int first = readByte();
        int second = readByte();
        if ((first & 0x80) == 0 || (second & 0x80) != 0) {
            throw new IOException("unexpected frame header " + Integer.toHexString(first) + " "
                    + Integer.toHexString(second));
        }
        long length = second & 0x7f;
        if (length == 126) {
            length = (readByte() << 8) | readByte();
        } else if (length == 127) {
            length = 0;
            for (int i = 0; i < 8; i++) {
                length = (length << 8) | readByte();
            }
        }
        if (length > Integer.MAX_VALUE - 8) {
            throw new IOException("frame too long: " + length);
        }
        payloadLength = (int) length;
        if (payload.length < payloadLength) {
            payload = new byte[payloadLength];
        }
        readFully(payload, payloadLength);
        return first & 0x0f;
    }

    /** Reads a frame and fails unless it has {@code opcode}. */
    void expect(int opcode) throws IOException {
        int got = read();
        if (got != opcode) {
            throw new IOException("expected opcode " + opcode + ", got " + got);
        }
    }

    byte[] payload() {
        return payload;
    }

    int payloadLength() {
        return payloadLength;
    }

    /** Replies to a server's close frame, which is what detaches the server's session. */
    void sendClose() throws IOException {
        out.write(CLOSE_1000);
    }

    void sendEmptyPong() throws IOException {
        out.write(EMPTY_PONG);
    }

    /** Reads exactly {@code length} raw bytes into {@code into}. */
    void readFully(byte[] into, int length) throws IOException {
        int read = 0;
        while (read < length) {
            int n = in.read(into, read, length - read);
            if (n < 0) {
                throw new EOFException("end of stream after " + read + " of " + length + " bytes");
            }
            read += n;
        }
    }

    /** Waits, within the socket's timeout, for the server to close the connection. */
    void awaitEnd() throws IOException {
        try {
            while (in.read() >= 0) {
                // The server has nothing more to say; anything it does say is dropped.
            }
        } catch (SocketTimeoutException e) {
            throw new IOException("the server did not close the connection", e);
        }
    }

    private int readByte() throws IOException {
        int b = in.read();
        if (b < 0) {
            throw new EOFException("end of stream in a frame");
        }
        return b;
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}

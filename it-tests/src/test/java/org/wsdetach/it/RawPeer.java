package org.wsdetach.it;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;

/**
 * A WebSocket client over a plain socket that does nothing on its own: the test writes every byte (frames
 * as hex, masked with the all-zero key so the payload stays readable) and reads the server's bytes exactly,
 * never past what it asks for.
 */
final class RawPeer implements AutoCloseable {

    static final int TIMEOUT_MILLIS = 10_000;
    /** A fixed key keeps the server's handshake response byte-identical across runs. */
    static final String KEY = "dGhlIHNhbXBsZSBub25jZQ==";

    private final Socket socket;
    /** The TCP socket under {@link #socket}, which is itself when there is no TLS. */
    private final Socket tcp;
    private final InputStream in;
    private final OutputStream out;
    private final byte[] handshakeResponse;

    private RawPeer(Socket socket, Socket tcp, byte[] handshakeResponse) throws IOException {
        this.socket = socket;
        this.tcp = tcp;
        this.in = socket.getInputStream();
        this.out = socket.getOutputStream();
        this.handshakeResponse = handshakeResponse;
    }

    static RawPeer connect(URI uri) throws IOException {
        return connect(uri, null);
    }

    /** Connects over TLS ({@code wss}) when {@code tls} is given: frames are then written into TLS records. */
    static RawPeer connect(URI uri, SSLSocketFactory tls) throws IOException {
        Socket socket = new Socket();
        socket.setTcpNoDelay(true);
        socket.setSoTimeout(TIMEOUT_MILLIS);
        socket.connect(new InetSocketAddress(uri.getHost(), uri.getPort()), TIMEOUT_MILLIS);
        Socket tcp = socket;
        if (tls != null) {
            SSLSocket secure = (SSLSocket) tls.createSocket(socket, uri.getHost(), uri.getPort(), true);
            secure.startHandshake();
            socket = secure;
        }
        String request = "GET " + uri.getRawPath() + " HTTP/1.1\r\n"
                + "Host: " + uri.getHost() + ":" + uri.getPort() + "\r\n"
                + "Upgrade: websocket\r\n"
                + "Connection: Upgrade\r\n"
                + "Sec-WebSocket-Key: " + KEY + "\r\n"
                + "Sec-WebSocket-Version: 13\r\n\r\n";
        socket.getOutputStream().write(request.getBytes(StandardCharsets.US_ASCII));
        ByteArrayOutputStream response = new ByteArrayOutputStream();
        InputStream in = socket.getInputStream();
        while (!endsWithBlankLine(response.toByteArray())) {
            int b = in.read();
            if (b < 0) {
                throw new EOFException("end of stream in the handshake response: " + response);
            }
            response.write(b);
        }
        String text = response.toString(StandardCharsets.US_ASCII);
        if (!text.startsWith("HTTP/1.1 101")) {
            socket.close();
            throw new IOException("upgrade refused: " + text);
        }
        return new RawPeer(socket, tcp, response.toByteArray());
    }

    private static boolean endsWithBlankLine(byte[] bytes) {
        int n = bytes.length;
        return n >= 4 && bytes[n - 4] == '\r' && bytes[n - 3] == '\n' && bytes[n - 2] == '\r' && bytes[n - 1] == '\n';
    }

    byte[] handshakeResponse() {
        return handshakeResponse.clone();
    }

    Socket socket() {
        return socket;
    }

    /** The TCP socket, under TLS if there is TLS: writing to it goes around the TLS session. */
    Socket rawSocket() {
        return tcp;
    }

    /** Writes bytes given as hex; spaces are ignored, so frames can be written as "8882 00000000 03e8". */
    RawPeer writeHex(String hex) throws IOException {
        return write(hex(hex));
    }

    RawPeer write(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
        return this;
    }

    /** Writes each byte on its own, flushing each time, as a peer may. */
    RawPeer writeBytewise(byte[] bytes) throws IOException {
        for (byte b : bytes) {
            out.write(b);
            out.flush();
        }
        return this;
    }

    byte[] readExactly(int length) throws IOException {
        byte[] bytes = in.readNBytes(length);
        if (bytes.length < length) {
            throw new EOFException("expected " + length + " bytes, got " + bytes.length + ": " + hexOf(bytes));
        }
        return bytes;
    }

    String readHex(int length) throws IOException {
        return hexOf(readExactly(length));
    }

    /** Reads one unmasked server frame with a payload shorter than 126 bytes, as hex (header and payload). */
    String readFrameHex() throws IOException {
        byte[] header = readExactly(2);
        int length = header[1] & 0x7F;
        if (length > 125 || (header[1] & 0x80) != 0) {
            throw new IOException("unexpected frame header " + hexOf(header));
        }
        return hexOf(header) + hexOf(readExactly(length));
    }

    /** Reads until the end of the stream, expecting nothing more than {@code limit} bytes. */
    byte[] readToEnd(int limit) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        byte[] chunk = new byte[8192];
        int n;
        while ((n = in.read(chunk)) >= 0) {
            bytes.write(chunk, 0, n);
            if (bytes.size() > limit) {
                throw new IOException("more than " + limit + " bytes before the end of stream");
            }
        }
        return bytes.toByteArray();
    }

    /** Reads what arrives until the end of the stream or a reset; returns what was read. */
    byte[] readUntilClosed() throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        byte[] chunk = new byte[8192];
        try {
            int n;
            while ((n = in.read(chunk)) >= 0) {
                bytes.write(chunk, 0, n);
            }
        } catch (java.net.SocketException reset) {
            // A reset ends the stream as surely as a FIN does here.
        }
        return bytes.toByteArray();
    }

    void shutdownOutput() throws IOException {
        socket.shutdownOutput();
    }

    /** Closes with a TCP reset instead of a FIN. */
    void reset() throws IOException {
        socket.setSoLinger(true, 0);
        socket.close();
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }

    static byte[] hex(String hex) {
        return HexFormat.of().parseHex(hex.replace(" ", ""));
    }

    static String hexOf(byte[] bytes) {
        return HexFormat.of().formatHex(bytes);
    }

    static String ascii(String text) {
        return hexOf(text.getBytes(StandardCharsets.UTF_8));
    }

    /** A masked (all-zero key) client frame with FIN set, as hex. */
    static String clientFrame(int opcode, String payloadHex) {
        byte[] payload = hex(payloadHex);
        if (payload.length > 125) {
            throw new IllegalArgumentException("use a hand-written header for long payloads");
        }
        return String.format("%02x%02x00000000", 0x80 | opcode, 0x80 | payload.length) + hexOf(payload);
    }

    static String clientText(String text) {
        return clientFrame(0x1, ascii(text));
    }
}

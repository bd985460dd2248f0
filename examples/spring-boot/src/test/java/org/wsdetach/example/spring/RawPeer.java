package org.wsdetach.example.spring;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A byte-level WebSocket client over a plain socket: it writes the upgrade request and frames as hex, and reads
 * exactly the bytes a test expects. Every read is bounded by the socket's timeout.
 */
final class RawPeer implements AutoCloseable {

    private static final HexFormat HEX = HexFormat.of();
    private static final int TIMEOUT_MILLIS = 10_000;
    /** The key of RFC 6455's example handshake, and the accept value it gives. */
    private static final String KEY = "dGhlIHNhbXBsZSBub25jZQ==";
    private static final String ACCEPT = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;

    private RawPeer(Socket socket) throws IOException {
        this.socket = socket;
        this.in = socket.getInputStream();
        this.out = socket.getOutputStream();
    }

    /** Connects to 127.0.0.1:{@code port} and upgrades {@code path}, checking the 101 response. */
    static RawPeer upgrade(int port, String path) throws IOException {
        Socket socket = new Socket();
        try {
            socket.connect(new InetSocketAddress("127.0.0.1", port), TIMEOUT_MILLIS);
            socket.setSoTimeout(TIMEOUT_MILLIS);
            socket.setTcpNoDelay(true);
            RawPeer peer = new RawPeer(socket);
            peer.handshake(port, path);
            return peer;
        } catch (IOException | RuntimeException | AssertionError e) {
            socket.close();
            throw e;
        }
    }

    private void handshake(int port, String path) throws IOException {
        out.write(("GET " + path + " HTTP/1.1\r\n"
                + "Host: 127.0.0.1:" + port + "\r\n"
                + "Upgrade: websocket\r\n"
                + "Connection: Upgrade\r\n"
                + "Sec-WebSocket-Key: " + KEY + "\r\n"
                + "Sec-WebSocket-Version: 13\r\n"
                + "\r\n").getBytes(StandardCharsets.US_ASCII));
        out.flush();
        String head = readHead();
        assertThat(head).startsWith("HTTP/1.1 101 ");
        assertThat(head.lines())
                .filteredOn(line -> line.regionMatches(true, 0, "Sec-WebSocket-Accept:", 0, 21))
                .singleElement()
                .satisfies(line -> assertThat(line.substring(21).strip()).isEqualTo(ACCEPT));
    }

    /** The response head, up to its empty line, read byte by byte so that nothing behind it is taken. */
    private String readHead() throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        while (head.size() < 8192) {
            int b = in.read();
            if (b < 0) {
                throw new IOException("end of stream in the response head: " + head.toString(StandardCharsets.US_ASCII));
            }
            head.write(b);
            String text = head.toString(StandardCharsets.US_ASCII);
            if (text.endsWith("\r\n\r\n")) {
                return text;
            }
        }
        throw new IOException("response head too long");
    }

    /** Writes the bytes given as hex, in one write. */
    void send(String hex) throws IOException {
        out.write(HEX.parseHex(hex));
        out.flush();
    }

    /** Reads exactly {@code count} bytes and gives them as hex; fewer if the stream ends first. */
    String receive(int count) throws IOException {
        return HEX.formatHex(in.readNBytes(count));
    }

    /** Reads one more byte: -1 at the end of the stream. */
    int read() throws IOException {
        return in.read();
    }

    void shutdownOutput() throws IOException {
        socket.shutdownOutput();
    }

    /** The bytes of {@code text} in UTF-8, as hex. */
    static String hex(String text) {
        return HEX.formatHex(text.getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}

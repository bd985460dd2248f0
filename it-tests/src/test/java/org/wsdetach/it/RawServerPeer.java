package org.wsdetach.it;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The server side of a WebSocket over a plain socket, doing nothing on its own: it answers one upgrade,
 * then the test writes every byte (server frames are unmasked, so hex reads as is) and reads the
 * client's frames unmasked.
 */
final class RawServerPeer implements AutoCloseable {

    private static final Pattern KEY = Pattern.compile("(?im)^Sec-WebSocket-Key:\\s*(\\S+)\\s*$");

    private final ServerSocket listener;
    /** The server's TLS context, or null for plain ws. */
    private final SSLContext tls;
    private Socket tcp;
    private Socket socket;
    private InputStream in;
    private OutputStream out;

    RawServerPeer() throws IOException {
        this(null);
    }

    /** A peer that speaks TLS ({@code wss}) with {@code tls}'s key, if given. */
    RawServerPeer(SSLContext tls) throws IOException {
        this.tls = tls;
        listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        listener.setSoTimeout(RawPeer.TIMEOUT_MILLIS);
    }

    URI uri() {
        return URI.create((tls == null ? "ws" : "wss") + "://127.0.0.1:" + listener.getLocalPort() + "/raw");
    }

    /** The TCP socket, under TLS if there is TLS: writing to it goes around the TLS session. */
    Socket rawSocket() {
        return tcp;
    }

    /** Half-closes: with TLS, a close_notify, then the TCP half-close. */
    void shutdownOutput() throws IOException {
        socket.shutdownOutput();
    }

    /** Accepts the client's connection and answers its upgrade request. */
    RawServerPeer accept() throws Exception {
        tcp = listener.accept();
        tcp.setTcpNoDelay(true);
        tcp.setSoTimeout(RawPeer.TIMEOUT_MILLIS);
        socket = tcp;
        if (tls != null) {
            SSLSocket secure = (SSLSocket) tls.getSocketFactory().createSocket(tcp, null, tcp.getPort(), true);
            secure.setUseClientMode(false);
            secure.startHandshake();
            socket = secure;
        }
        in = socket.getInputStream();
        out = socket.getOutputStream();
        ByteArrayOutputStream request = new ByteArrayOutputStream();
        while (!request.toString(StandardCharsets.US_ASCII).endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) {
                throw new EOFException("end of stream in the upgrade request");
            }
            request.write(b);
        }
        Matcher key = KEY.matcher(request.toString(StandardCharsets.US_ASCII));
        if (!key.find()) {
            throw new IOException("no Sec-WebSocket-Key in " + request);
        }
        String accept = Base64.getEncoder().encodeToString(MessageDigest.getInstance("SHA-1").digest(
                (key.group(1) + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").getBytes(StandardCharsets.US_ASCII)));
        out.write(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Accept: " + accept + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        return this;
    }

    RawServerPeer writeHex(String hex) throws IOException {
        return write(RawPeer.hex(hex));
    }

    RawServerPeer write(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
        return this;
    }

    /** Reads one client frame with a payload shorter than 126 bytes: its first byte and unmasked payload, as hex. */
    String readClientFrameHex() throws IOException {
        byte[] header = in.readNBytes(2);
        if (header.length < 2 || (header[1] & 0x80) == 0 || (header[1] & 0x7F) > 125) {
            throw new IOException("not a masked short client frame: " + RawPeer.hexOf(header));
        }
        byte[] mask = in.readNBytes(4);
        byte[] payload = in.readNBytes(header[1] & 0x7F);
        for (int i = 0; i < payload.length; i++) {
            payload[i] ^= mask[i & 3];
        }
        return String.format("%02x", header[0]) + RawPeer.hexOf(payload);
    }

    byte[] readExactly(int length) throws IOException {
        byte[] bytes = in.readNBytes(length);
        if (bytes.length < length) {
            throw new EOFException("expected " + length + " bytes, got " + bytes.length);
        }
        return bytes;
    }

    @Override
    public void close() throws IOException {
        if (socket != null) {
            socket.close();
        }
        listener.close();
    }
}

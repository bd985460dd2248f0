package org.wsdetach.it;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
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
 * The server end as a {@link SocketPeer}, over a plain socket or a JDK TLS socket: it answers one upgrade
 * and sends its frames unmasked.
 */
final class RawServerPeer implements AutoCloseable {

    private static final Pattern KEY = Pattern.compile("(?im)^Sec-WebSocket-Key:\\s*(\\S+)\\s*$");

    private final ServerSocket listener;
    /** The server's TLS context, or null for plain ws. */
    private final SSLContext tls;

    RawServerPeer() throws IOException {
        this(null);
    }

    /** A server that speaks TLS ({@code wss}) with {@code tls}'s key, if given. */
    RawServerPeer(SSLContext tls) throws IOException {
        this.tls = tls;
        listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        listener.setSoTimeout(SocketPeer.TIMEOUT_MILLIS);
    }

    URI uri(String path) {
        return URI.create((tls == null ? "ws" : "wss") + "://127.0.0.1:" + listener.getLocalPort() + path);
    }

    /** Accepts one connection and answers its upgrade request. */
    SocketPeer accept() throws Exception {
        Socket tcp = listener.accept();
        tcp.setTcpNoDelay(true);
        tcp.setSoTimeout(SocketPeer.TIMEOUT_MILLIS);
        Socket socket = tcp;
        if (tls != null) {
            SSLSocket secure = (SSLSocket) tls.getSocketFactory().createSocket(tcp, null, tcp.getPort(), true);
            secure.setUseClientMode(false);
            secure.startHandshake();
            socket = secure;
        }
        InputStream in = socket.getInputStream();
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
        socket.getOutputStream().write(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                + "Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept + "\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII));
        return new SocketPeer(socket, tcp, false);
    }

    @Override
    public void close() throws IOException {
        listener.close();
    }
}

package org.wsdetach.it;

import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;

/** The client end as a {@link SocketPeer}: a plain socket, or a JDK TLS socket, that masks its frames. */
final class RawPeer extends SocketPeer {

    static final int TIMEOUT_MILLIS = SocketPeer.TIMEOUT_MILLIS;
    /** A fixed key keeps the server's handshake response byte-identical across runs. */
    static final String KEY = "dGhlIHNhbXBsZSBub25jZQ==";

    private final byte[] handshakeResponse;

    private RawPeer(Socket socket, Socket tcp, byte[] handshakeResponse) throws IOException {
        super(socket, tcp, true);
        this.handshakeResponse = handshakeResponse;
    }

    static RawPeer connect(URI uri) throws IOException {
        return connect(uri, null);
    }

    /** Connects over TLS ({@code wss}) when {@code tls} is given: frames are then written into TLS records. */
    static RawPeer connect(URI uri, SSLSocketFactory tls) throws IOException {
        return connect(uri, tls, "");
    }

    /** As {@link #connect(URI, SSLSocketFactory)}, with {@code headers} ("Name: value\r\n" each) in the request. */
    static RawPeer connect(URI uri, SSLSocketFactory tls, String headers) throws IOException {
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
                + "Sec-WebSocket-Version: 13\r\n"
                + headers + "\r\n";
        socket.getOutputStream().write(request.getBytes(StandardCharsets.US_ASCII));
        ByteArrayOutputStream response = new ByteArrayOutputStream();
        InputStream in = socket.getInputStream();
        while (!response.toString(StandardCharsets.US_ASCII).endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) {
                throw new EOFException("end of stream in the handshake response: " + response);
            }
            response.write(b);
        }
        if (!response.toString(StandardCharsets.US_ASCII).startsWith("HTTP/1.1 101")) {
            socket.close();
            throw new IOException("upgrade refused: " + response);
        }
        return new RawPeer(socket, tcp, response.toByteArray());
    }

    byte[] handshakeResponse() {
        return handshakeResponse.clone();
    }
}

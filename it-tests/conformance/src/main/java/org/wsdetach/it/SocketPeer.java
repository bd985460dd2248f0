package org.wsdetach.it;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;

/**
 * The byte-level end of a WebSocket connection under test, client or server, after the opening
 * handshake: it does nothing on its own, the test writes every byte ({@link Wire}'s notation) and reads
 * exactly what it asks for; frames read are given as {@link Wire} writes them (unmasked, mask bit clear).
 */
class SocketPeer implements AutoCloseable {

    static final int TIMEOUT_MILLIS = 10_000;

    private final Socket socket;
    private final Socket tcp;
    private final boolean masks;
    private final InputStream in;
    private final OutputStream out;

    /**
     * @param socket the socket to speak through, TLS or not
     * @param tcp    the TCP socket under it, or {@code socket} itself without TLS
     * @param masks  whether this peer masks its frames: true for a client
     */
    SocketPeer(Socket socket, Socket tcp, boolean masks) throws IOException {
        this.socket = socket;
        this.tcp = tcp;
        this.masks = masks;
        this.in = socket.getInputStream();
        this.out = socket.getOutputStream();
    }

    InputStream in() {
        return in;
    }

    /** The socket the peer speaks through (TLS if there is TLS). */
    public Socket socket() {
        return socket;
    }

    /** The TCP socket, under TLS if there is TLS: writing to it goes around the TLS session. */
    Socket rawSocket() {
        return tcp;
    }

    /** Writes {@code wire} ({@link Wire}'s notation) in one write. */
    public SocketPeer writeHex(String wire) throws IOException {
        return write(bytes(wire));
    }

    /**
     * Writes {@code wire} as {@link #writeHex} does, to a server that may have closed the connection
     * already: a reset in answer is no error here.
     */
    public SocketPeer writeHexUnlessReset(String wire) throws IOException {
        try {
            return writeHex(wire);
        } catch (java.net.SocketException reset) {
            return this;
        }
    }

    /** The bytes this peer sends for {@code wire}. */
    public byte[] bytes(String wire) {
        return Wire.encode(wire, masks);
    }

    public SocketPeer write(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
        return this;
    }

    /** Writes each byte on its own, flushing each time, as a peer may. */
    public SocketPeer writeBytewise(byte[] bytes) throws IOException {
        for (byte b : bytes) {
            out.write(b);
            out.flush();
        }
        return this;
    }

    /** Reads one frame with a payload shorter than 126 bytes, unmasked, as {@link Wire} writes it. */
    public String readFrameHex() throws IOException {
        byte[] header = readExactly(2);
        int length = header[1] & 0x7F;
        if (length > 125) {
            throw new IOException("unexpected frame header " + Wire.hexOf(header));
        }
        boolean masked = (header[1] & 0x80) != 0;
        byte[] key = masked ? readExactly(4) : new byte[4];
        byte[] payload = readExactly(length);
        for (int i = 0; i < payload.length; i++) {
            payload[i] ^= key[i & 3];
        }
        header[1] &= 0x7F;
        return Wire.hexOf(header) + Wire.hexOf(payload);
    }

    public String readHex(int length) throws IOException {
        return Wire.hexOf(readExactly(length));
    }

    public byte[] readExactly(int length) throws IOException {
        byte[] bytes = in.readNBytes(length);
        if (bytes.length < length) {
            throw new EOFException("expected " + length + " bytes, got " + bytes.length + ": " + Wire.hexOf(bytes));
        }
        return bytes;
    }

    /** Reads until the end of the stream, expecting nothing more than {@code limit} bytes. */
    public byte[] readToEnd(int limit) throws IOException {
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
    public byte[] readUntilClosed() throws IOException {
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

    public void shutdownOutput() throws IOException {
        socket.shutdownOutput();
    }

    /** Closes with a TCP reset instead of a FIN. */
    public void reset() throws IOException {
        tcp.setSoLinger(true, 0);
        tcp.close();
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}

package org.wsdetach.it;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;

/**
 * How the suites write bytes: hex, with each WebSocket frame in brackets, written unmasked. A peer sends
 * the frames as its role requires: a client peer masks them (with the all-zero key, which keeps the hex
 * readable), a server peer does not. Braces instead of brackets give a frame the wrong masking for the
 * role. So {@code "[8802 03e8]68656c6c6f"} is a close frame 1000 followed by the raw bytes "hello", from
 * either end.
 */
final class Wire {

    private Wire() {
    }

    /** A frame with FIN set, as the suites write it. */
    static String frame(int opcode, String payloadHex) {
        int length = hex(payloadHex).length;
        if (length > 125) {
            throw new IllegalArgumentException("write long frames by hand");
        }
        return String.format("[%02x%02x%s]", 0x80 | opcode, length, payloadHex.replace(" ", ""));
    }

    static String text(String text) {
        return frame(0x1, ascii(text));
    }

    /** The bytes of {@code wire} as sent by a peer that masks its frames if {@code masks}. */
    static byte[] encode(String wire, boolean masks) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        int at = 0;
        while (at < wire.length()) {
            char open = wire.charAt(at);
            if (open == '[' || open == '{') {
                int end = wire.indexOf(open == '[' ? ']' : '}', at);
                byte[] frame = hex(wire.substring(at + 1, end));
                bytes.writeBytes(masks == (open == '[') ? masked(frame) : frame);
                at = end + 1;
            } else {
                int end = at;
                while (end < wire.length() && wire.charAt(end) != '[' && wire.charAt(end) != '{') {
                    end++;
                }
                bytes.writeBytes(hex(wire.substring(at, end)));
                at = end;
            }
        }
        return bytes.toByteArray();
    }

    /** Sets the mask bit and inserts the all-zero masking key after the length, leaving the payload as is. */
    private static byte[] masked(byte[] frame) {
        int length7 = frame[1] & 0x7F;
        int keyAt = 2 + (length7 == 126 ? 2 : length7 == 127 ? 8 : 0);
        byte[] masked = new byte[frame.length + 4];
        System.arraycopy(frame, 0, masked, 0, keyAt);
        masked[1] |= (byte) 0x80;
        System.arraycopy(frame, keyAt, masked, keyAt + 4, frame.length - keyAt);
        return masked;
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

    /** A text frame as permessage-deflate compresses it (RFC 7692 section 7.2.1), RSV1 set, as the suites write frames. */
    static String compressedText(String text) {
        java.util.zip.Deflater deflater = new java.util.zip.Deflater(java.util.zip.Deflater.DEFAULT_COMPRESSION, true);
        deflater.setInput(text.getBytes(StandardCharsets.UTF_8));
        byte[] buffer = new byte[64];
        int length = deflater.deflate(buffer, 0, buffer.length, java.util.zip.Deflater.SYNC_FLUSH);
        deflater.end();
        // Without the 00 00 ff ff that ends every flush.
        byte[] payload = java.util.Arrays.copyOf(buffer, length - 4);
        return String.format("[c1%02x%s]", payload.length, hexOf(payload));
    }
}

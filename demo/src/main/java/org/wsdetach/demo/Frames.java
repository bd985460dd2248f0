package org.wsdetach.demo;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.net.ProtocolException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.util.Random;

/** The RFC 6455 framing {@link DemoClient} needs: masked frames out, unmasked whole server frames in. */
final class Frames {

    static final int TEXT = 0x1;
    static final int CLOSE = 0x8;
    static final int NORMAL_CLOSURE = 1000;
    private static final int NO_STATUS = 1005;
    private static final int MAX_CONTROL_PAYLOAD = 125;

    /** A frame as the server sent it. */
    record Frame(int opcode, byte[] payload) {
    }

    /** The payload of a close frame. */
    record Close(int status, String reason) {
        @Override
        public String toString() {
            return status + " \"" + reason + "\"";
        }
    }

    private Frames() {
    }

    static byte[] masked(int opcode, byte[] payload, Random random) {
        int length = payload.length;
        int lengthBytes = length <= MAX_CONTROL_PAYLOAD ? 0 : length <= 0xFFFF ? 2 : 8;
        byte[] frame = new byte[2 + lengthBytes + 4 + length];
        frame[0] = (byte) (0x80 | opcode);
        frame[1] = (byte) (0x80 | (lengthBytes == 0 ? length : lengthBytes == 2 ? 126 : 127));
        for (int i = 0; i < lengthBytes; i++) {
            frame[2 + i] = (byte) ((long) length >>> (8 * (lengthBytes - 1 - i)));
        }
        int maskAt = 2 + lengthBytes;
        byte[] mask = new byte[4];
        random.nextBytes(mask);
        System.arraycopy(mask, 0, frame, maskAt, mask.length);
        for (int i = 0; i < length; i++) {
            frame[maskAt + 4 + i] = (byte) (payload[i] ^ mask[i & 3]);
        }
        return frame;
    }

    static byte[] close(int status, Random random) {
        return masked(CLOSE, new byte[] {(byte) (status >>> 8), (byte) status}, random);
    }

    /**
     * Reads one frame, exactly: the header, then as many payload bytes as it announces, and nothing more.
     * Anything the demo server does not send is rejected: fragments, extension bits, masked frames,
     * opcodes other than text and close.
     */
    static Frame read(InputStream in, int maxPayload) throws IOException {
        byte[] head = readExactly(in, 2);
        int finAndOpcode = head[0] & 0xFF;
        int maskAndLength = head[1] & 0xFF;
        if ((finAndOpcode & 0x70) != 0) {
            throw new ProtocolException("RSV bits set, but no extension was negotiated");
        }
        if ((finAndOpcode & 0x80) == 0) {
            throw new ProtocolException("fragmented message");
        }
        if ((maskAndLength & 0x80) != 0) {
            throw new ProtocolException("masked frame from the server");
        }
        int opcode = finAndOpcode & 0x0F;
        if (opcode != TEXT && opcode != CLOSE) {
            throw new ProtocolException("unexpected opcode 0x" + Integer.toHexString(opcode));
        }
        long length = maskAndLength & 0x7F;
        if (length == 126) {
            length = unsigned(readExactly(in, 2));
        } else if (length == 127) {
            length = unsigned(readExactly(in, 8));
        }
        int limit = opcode == CLOSE ? MAX_CONTROL_PAYLOAD : maxPayload;
        if (length < 0 || length > limit) {
            throw new ProtocolException("frame payload of " + Long.toUnsignedString(length)
                    + " bytes, more than the " + limit + " allowed");
        }
        return new Frame(opcode, readExactly(in, (int) length));
    }

    static Close parseClose(byte[] payload) throws IOException {
        if (payload.length == 0) {
            return new Close(NO_STATUS, "");
        }
        if (payload.length == 1) {
            throw new ProtocolException("close payload of 1 byte");
        }
        int status = (payload[0] & 0xFF) << 8 | payload[1] & 0xFF;
        return new Close(status, utf8(payload, 2));
    }

    static String utf8(byte[] bytes, int offset) throws CharacterCodingException {
        return StandardCharsets.UTF_8.newDecoder()
                .decode(ByteBuffer.wrap(bytes, offset, bytes.length - offset)).toString();
    }

    private static byte[] readExactly(InputStream in, int count) throws IOException {
        byte[] bytes = in.readNBytes(count);
        if (bytes.length < count) {
            throw new EOFException("connection ended inside a frame");
        }
        return bytes;
    }

    private static long unsigned(byte[] bigEndian) {
        long value = 0;
        for (byte b : bigEndian) {
            value = value << 8 | b & 0xFF;
        }
        return value;
    }
}

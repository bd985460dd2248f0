package org.wsdetach.spi;

import jakarta.websocket.CloseReason;

import java.net.ProtocolException;
import java.nio.ByteBuffer;
import java.util.Objects;

/**
 * Finds the frame boundaries in an inbound WebSocket byte stream (RFC 6455 section 5) from the frame
 * headers alone, so that a provider can cut the stream exactly at the end of the peer's close frame and
 * hand every later byte over untouched.
 *
 * <p>The stream is fed in order, one chunk at a time, to {@link #scan scan}, which stops at the end of
 * each frame; a frame may be split across chunks at any byte. Each frame goes from HEADER, where its 2
 * to 14 header bytes are collected, to PAYLOAD, where its payload length is counted down, and then is
 * complete and the next frame starts in HEADER; a frame without payload completes with its header. Data
 * payloads are skipped by arithmetic, unread; only a close frame's payload is read, unmasked and kept
 * (at most 125 bytes), to give its {@linkplain #closeReason reason}. Nothing is allocated per frame
 * except for that reason.
 *
 * <p>The protocol errors found are: a reserved opcode, a fragmented control frame, a control frame with
 * more than 125 payload bytes, a mask bit that differs from the one expected (unless
 * {@linkplain #checkMasking unchecked}), a 64-bit payload length
 * with its most significant bit set, and a close payload of one byte, with a status that may not be
 * {@linkplain CloseFrames#isSendableStatus sent}, or with a reason that is not valid UTF-8. RSV bits are
 * left to extensions, and lengths need not be minimally encoded. The order of frames (a continuation
 * without a message to continue, for instance) is not checked, since scanning may start in the middle of
 * a message. After an error nothing more is consumed.
 *
 * <p>A scanner is not safe for use by multiple concurrent threads.
 */
public final class FrameScanner {

    private final boolean masked;
    private final byte[] header = new byte[WebSocketProtocol.MAX_HEADER_BYTES];
    private final byte[] closePayload = new byte[WebSocketProtocol.MAX_CONTROL_PAYLOAD];
    private boolean maskingChecked = true;
    /** Whether the current frame's header has its mask bit set. */
    private boolean frameMasked;

    /** Header bytes consumed of the current frame; the frame is in PAYLOAD once this reaches headerSize. */
    private int headerLength;
    /** 2 until the second header byte tells the real size. */
    private int headerSize = 2;
    /** Where the length bytes end in the header, and the masking key, if any, starts. */
    private int lengthEnd;
    private long payloadRemaining;
    private int closePayloadLength;

    private int opcode = -1;
    private boolean fin;
    private CloseReason closeReason;
    private String error;

    /**
     * Creates a scanner positioned at the start of a frame.
     *
     * @param masked whether the frames must be masked: true for frames a client sends (scanned by a
     *               server), false for frames a server sends
     */
    public FrameScanner(boolean masked) {
        this.masked = masked;
    }

    /**
     * Sets whether a frame whose mask bit differs from the one expected is a protocol error, from the next
     * frame header on; it is by default. Unchecked, such a frame is scanned as its own header states, so
     * that its boundaries stay known (and a close payload is unmasked only if its header says it is masked):
     * a provider that passes frames on to a container which accepts them, as some do, must not lose
     * track of the stream where the container does not.
     *
     * @param checked true to report a wrong mask bit as an error
     */
    public void checkMasking(boolean checked) {
        maskingChecked = checked;
    }

    /**
     * Consumes the bytes of {@code buffer} at the absolute indices {@code from} (inclusive) to {@code to}
     * (exclusive) up to the end of the current frame, reading them with {@link ByteBuffer#get(int)}: the
     * buffer's position, limit and content are not changed. Returns the index just past the last byte
     * consumed, which is the end of the frame if it completed ({@link #frameComplete()} is then true) and
     * {@code to} otherwise. If the bytes reveal a protocol error, scanning stops just past the byte that
     * revealed it and {@link #error()} describes it; from then on every call consumes nothing and returns
     * {@code from}. A call that consumes nothing changes nothing.
     *
     * @param buffer the buffer holding the next bytes of the stream
     * @param from   the index of the first byte to consume
     * @param to     the index just past the last byte that may be consumed
     * @return the index just past the last byte consumed
     * @throws IndexOutOfBoundsException if {@code from} is negative, {@code from > to}, or {@code to} is
     *                                   greater than the buffer's limit; nothing is consumed then
     */
    public int scan(ByteBuffer buffer, int from, int to) {
        Objects.checkFromToIndex(from, to, buffer.limit());
        if (error != null) {
            return from;
        }
        int index = from;
        while (index < to) {
            if (headerLength < headerSize) {
                if (!headerByte(buffer.get(index++))) {
                    return index;
                }
                if (headerLength == headerSize && payloadRemaining == 0) {
                    return endFrame(index);
                }
            } else {
                int count = (int) Math.min(payloadRemaining, to - index);
                if (opcode == WebSocketProtocol.OPCODE_CLOSE) {
                    for (int i = 0; i < count; i++) {
                        byte b = buffer.get(index + i);
                        if (frameMasked) {
                            b ^= header[lengthEnd + (closePayloadLength & 3)];
                        }
                        closePayload[closePayloadLength++] = b;
                    }
                }
                index += count;
                payloadRemaining -= count;
                if (payloadRemaining == 0) {
                    return endFrame(index);
                }
            }
        }
        return to;
    }

    /**
     * Tells whether the last byte consumed ended a frame: true from the end of a frame until the first
     * byte of the next one is consumed.
     *
     * @return true if {@link #scan scan} stopped at the end of a frame
     */
    public boolean frameComplete() {
        return headerLength == 0 && opcode >= 0 && error == null;
    }

    /**
     * Tells whether no byte of the next frame has been consumed: true initially and after a frame has
     * completed.
     *
     * @return true if the scanner is at a frame boundary
     */
    public boolean atFrameStart() {
        return headerLength == 0;
    }

    /**
     * Returns the opcode of the current frame, or of the frame that just completed.
     *
     * @return the opcode, 0 to 15, or -1 if no byte has been consumed yet
     */
    public int opcode() {
        return opcode;
    }

    /**
     * Returns the FIN bit of the current frame, or of the frame that just completed.
     *
     * @return true if the frame is the last of its message; false if no byte has been consumed yet
     */
    public boolean fin() {
        return fin;
    }

    /**
     * Returns the status and reason of the close frame that just completed without error.
     *
     * @return the peer's close reason; {@link CloseReason.CloseCodes#NO_STATUS_CODE} with an empty reason
     *         for an empty close payload
     * @throws IllegalStateException if the last byte consumed did not complete a valid close frame
     */
    public CloseReason closeReason() {
        if (closeReason == null) {
            throw new IllegalStateException("no close frame has just completed");
        }
        return closeReason;
    }

    /**
     * Returns the protocol error found, if any.
     *
     * @return a description of the error, or null if none has been found
     */
    public String error() {
        return error;
    }

    /** Takes one header byte; returns false if it reveals an error. */
    private boolean headerByte(byte b) {
        header[headerLength++] = b;
        switch (headerLength) {
            case 1:
                opcode = b & WebSocketProtocol.B0_MASK_OPCODE;
                fin = (b & WebSocketProtocol.B0_FLAG_FIN) != 0;
                closeReason = null;
                if (!WebSocketProtocol.isDefinedOpcode(opcode)) {
                    return fail("reserved opcode 0x" + Integer.toHexString(opcode));
                }
                boolean control = (opcode & WebSocketProtocol.OPCODE_FLAG_CONTROL) != 0;
                if (control && !fin) {
                    return fail("fragmented control frame, opcode 0x" + Integer.toHexString(opcode));
                }
                return true;
            case 2:
                frameMasked = (b & WebSocketProtocol.B1_FLAG_MASK) != 0;
                if (maskingChecked && frameMasked != masked) {
                    return fail(masked ? "unmasked frame, a mask was expected" : "masked frame, no mask was expected");
                }
                int length7 = b & WebSocketProtocol.B1_MASK_LENGTH;
                if ((opcode & WebSocketProtocol.OPCODE_FLAG_CONTROL) != 0
                        && length7 > WebSocketProtocol.MAX_CONTROL_PAYLOAD) {
                    return fail("control frame with more than 125 payload bytes, opcode 0x"
                            + Integer.toHexString(opcode));
                }
                lengthEnd = length7 == WebSocketProtocol.PAYLOAD_LENGTH_16 ? 4
                        : length7 == WebSocketProtocol.PAYLOAD_LENGTH_64 ? 10 : 2;
                headerSize = lengthEnd + (frameMasked ? WebSocketProtocol.MASKING_KEY_BYTES : 0);
                payloadRemaining = length7 <= WebSocketProtocol.MAX_CONTROL_PAYLOAD ? length7 : 0;
                return true;
            default:
                if (headerLength <= lengthEnd) {
                    if (headerLength == 3 && lengthEnd == 10 && b < 0) {
                        return fail("64-bit payload length with the most significant bit set");
                    }
                    payloadRemaining = payloadRemaining << 8 | Byte.toUnsignedLong(b);
                }
                return true;
        }
    }

    private boolean fail(String message) {
        error = message;
        return false;
    }

    /** Ends the current frame at {@code index}, unless its close payload is invalid. */
    private int endFrame(int index) {
        if (opcode == WebSocketProtocol.OPCODE_CLOSE) {
            try {
                closeReason = CloseFrames.parsePeerPayload(closePayload, closePayloadLength);
            } catch (ProtocolException e) {
                error = e.getMessage();
                return index;
            }
        }
        headerLength = 0;
        headerSize = 2;
        closePayloadLength = 0;
        return index;
    }
}

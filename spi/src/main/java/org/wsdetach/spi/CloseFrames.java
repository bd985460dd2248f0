package org.wsdetach.spi;

import jakarta.websocket.CloseReason;
import jakarta.websocket.CloseReason.CloseCode;
import jakarta.websocket.CloseReason.CloseCodes;

import java.net.ProtocolException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * Close payloads and close frames (RFC 6455 sections 5.5.1 and 7.4): checking the close reasons this
 * side sends and building their frames.
 *
 * <p>A close payload is either empty (no status; the API spells it
 * {@link CloseCodes#NO_STATUS_CODE} with an empty reason) or a two-byte big-endian status followed by a
 * UTF-8 reason of at most 123 bytes, so that the payload fits the 125 bytes a
 * control frame may carry.
 */
public final class CloseFrames {

    private static final byte CLOSE_B0 = (byte) (WebSocketProtocol.B0_FLAG_FIN | WebSocketProtocol.OPCODE_CLOSE);

    private CloseFrames() {
    }

    /**
     * Tells whether a peer may put {@code code} in a close frame: 1000-1003, 1007-1014 and 3000-4999.
     * The other defined codes (1004, 1005, 1006, 1015) exist only to be reported locally; the rest of
     * 0-2999 is reserved or unused, and 5000 and up are not status codes.
     *
     * @param code any int
     * @return true if {@code code} is a status that may be sent
     */
    public static boolean isSendableStatus(int code) {
        return code >= 1000 && code <= 1003
                || code >= 1007 && code <= 1014
                || code >= 3000 && code <= 4999;
    }

    /**
     * Checks that this side may send {@code reason}: its code is {@linkplain #isSendableStatus sendable}
     * and its reason phrase encodes to at most 123 UTF-8 bytes, or its code is
     * {@link CloseCodes#NO_STATUS_CODE} and its reason phrase is empty (a {@code null} phrase counts as
     * empty).
     *
     * @param reason the close reason to check
     * @throws IllegalArgumentException if {@code reason} has no code or a code that may not be sent, if
     *                                  its phrase is too long or has an unpaired surrogate, or if it has a
     *                                  phrase but no status
     */
    public static void checkLocal(CloseReason reason) {
        payload(reason);
    }

    /**
     * Returns the close payload for {@code reason}, checked as by {@link #checkLocal}: empty for
     * {@link CloseCodes#NO_STATUS_CODE}, otherwise the status in two big-endian bytes followed by the
     * reason phrase in UTF-8.
     *
     * @param reason the close reason to send
     * @return a new array of at most 125 bytes
     * @throws IllegalArgumentException if {@code reason} may not be sent, as for {@link #checkLocal}
     */
    public static byte[] payload(CloseReason reason) {
        Objects.requireNonNull(reason, "reason");
        CloseCode closeCode = reason.getCloseCode();
        if (closeCode == null) {
            throw new IllegalArgumentException("close reason without a close code");
        }
        int code = closeCode.getCode();
        String phrase = Objects.requireNonNullElse(reason.getReasonPhrase(), "");
        if (code == CloseCodes.NO_STATUS_CODE.getCode()) {
            if (!phrase.isEmpty()) {
                throw new IllegalArgumentException("close status 1005 (no status) cannot carry a reason, got \""
                        + phrase + "\"; a reason needs a status");
            }
            return new byte[0];
        }
        if (!isSendableStatus(code)) {
            throw new IllegalArgumentException("close status " + code
                    + " may not be sent; use 1000-1003, 1007-1014 or 3000-4999");
        }
        ByteBuffer utf8 = encode(phrase);
        int length = utf8.remaining();
        if (length > WebSocketProtocol.MAX_CLOSE_REASON_BYTES) {
            throw new IllegalArgumentException("close reason is " + length + " UTF-8 bytes; at most "
                    + WebSocketProtocol.MAX_CLOSE_REASON_BYTES + " fit in a close frame");
        }
        byte[] payload = new byte[2 + length];
        payload[0] = (byte) (code >>> 8);
        payload[1] = (byte) code;
        utf8.get(payload, 2, length);
        return payload;
    }

    /**
     * Returns the close frame a server sends for {@code reason}: FIN set, opcode 8, no mask, the payload
     * length in one byte, then the {@linkplain #payload payload}.
     *
     * @param reason the close reason to send
     * @return a new heap buffer holding the frame between position 0 and its limit
     * @throws IllegalArgumentException if {@code reason} may not be sent, as for {@link #checkLocal}
     */
    public static ByteBuffer serverFrame(CloseReason reason) {
        byte[] payload = payload(reason);
        ByteBuffer frame = ByteBuffer.allocate(2 + payload.length);
        frame.put(CLOSE_B0).put((byte) payload.length).put(payload);
        return frame.flip();
    }

    /**
     * Returns the close frame a client sends for {@code reason}: as {@link #serverFrame}, but masked with
     * {@code maskingKey}, which RFC 6455 requires to be unpredictable (take it from a strong random source).
     *
     * @param reason     the close reason to send
     * @param maskingKey the 4-byte masking key, big-endian
     * @return a new heap buffer holding the frame between position 0 and its limit
     * @throws IllegalArgumentException if {@code reason} may not be sent, as for {@link #checkLocal}
     */
    public static ByteBuffer clientFrame(CloseReason reason, int maskingKey) {
        byte[] payload = payload(reason);
        ByteBuffer frame = ByteBuffer.allocate(2 + WebSocketProtocol.MASKING_KEY_BYTES + payload.length);
        frame.put(CLOSE_B0).put((byte) (WebSocketProtocol.B1_FLAG_MASK | payload.length)).putInt(maskingKey);
        for (int i = 0; i < payload.length; i++) {
            frame.put((byte) (payload[i] ^ maskingKey >>> 8 * (3 - (i & 3))));
        }
        return frame.flip();
    }

    /**
     * Reads the close payload a peer sent, already unmasked, from {@code payload[0, length)}.
     *
     * @throws ProtocolException if the payload is one byte long, its status may not be sent, or its
     *                           reason is not valid UTF-8; the message says which
     */
    static CloseReason parsePeerPayload(byte[] payload, int length) throws ProtocolException {
        if (length == 0) {
            return new CloseReason(CloseCodes.NO_STATUS_CODE, "");
        }
        if (length == 1) {
            throw new ProtocolException("close payload of 1 byte");
        }
        int code = Byte.toUnsignedInt(payload[0]) << 8 | Byte.toUnsignedInt(payload[1]);
        if (!isSendableStatus(code)) {
            throw new ProtocolException("close status " + code + " may not be sent");
        }
        String phrase;
        try {
            phrase = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(payload, 2, length - 2))
                    .toString();
        } catch (CharacterCodingException e) {
            throw new ProtocolException("close reason is not valid UTF-8");
        }
        return new CloseReason(CloseCodes.getCloseCode(code), phrase);
    }

    private static ByteBuffer encode(String phrase) {
        try {
            // REPORT, not the replacement that String.getBytes uses: a reason the peer would receive
            // altered is a caller's bug worth reporting.
            return StandardCharsets.UTF_8.newEncoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .encode(CharBuffer.wrap(phrase));
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException("close reason has an unpaired surrogate and cannot be encoded"
                    + " in UTF-8", e);
        }
    }
}

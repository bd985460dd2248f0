package org.wsdetach.spi;

/**
 * The bits, opcodes and limits of the WebSocket framing (RFC 6455 section 5.2) that providers need, named
 * once, so that no mask or limit is spelled out anywhere else.
 *
 * <pre>
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-------+-+-------------+-------------------------------+
 * |F|R|R|R| opcode|M| Payload len |    Extended payload length    |
 * |I|S|S|S|  (4)  |A|     (7)     |             (16/64)           |
 * |N|V|V|V|       |S|             |   (if payload len==126/127)   |
 * | |1|2|3|       |K|             |                               |
 * +-+-+-+-+-------+-+-------------+ - - - - - - - - - - - - - - - +
 * </pre>
 */
public final class WebSocketProtocol {

    /** Byte 0: the last frame of a message. */
    public static final int B0_FLAG_FIN = 0b1000_0000;
    /** Byte 0: the three bits reserved for extensions. */
    public static final int B0_MASK_RSV = 0b0111_0000;
    /** Byte 0: the opcode. */
    public static final int B0_MASK_OPCODE = 0b0000_1111;
    /** Set in the opcodes of control frames (close, ping, pong and the reserved 0xB-0xF). */
    public static final int OPCODE_FLAG_CONTROL = 0b0000_1000;

    /** Byte 1: the payload is masked, and a 4-byte masking key follows the length. */
    public static final int B1_FLAG_MASK = 0b1000_0000;
    /** Byte 1: the 7-bit payload length, or one of {@link #PAYLOAD_LENGTH_16} and {@link #PAYLOAD_LENGTH_64}. */
    public static final int B1_MASK_LENGTH = 0b0111_1111;

    public static final int OPCODE_CONTINUATION = 0x0;
    public static final int OPCODE_TEXT = 0x1;
    public static final int OPCODE_BINARY = 0x2;
    public static final int OPCODE_CLOSE = 0x8;
    public static final int OPCODE_PING = 0x9;
    public static final int OPCODE_PONG = 0xA;

    /** The 7-bit length that announces a 16-bit length in the next two bytes. */
    public static final int PAYLOAD_LENGTH_16 = 126;
    /** The 7-bit length that announces a 64-bit length in the next eight bytes. */
    public static final int PAYLOAD_LENGTH_64 = 127;
    /** The longest payload a 7-bit length states, and the longest a control frame may carry. */
    public static final int MAX_CONTROL_PAYLOAD = 125;
    /** The longest close reason, in UTF-8 bytes: a control payload less its two status bytes. */
    public static final int MAX_CLOSE_REASON_BYTES = MAX_CONTROL_PAYLOAD - 2;
    /** The length of a masking key. */
    public static final int MASKING_KEY_BYTES = 4;
    /** The longest frame header: two bytes, a 64-bit length and a masking key. */
    public static final int MAX_HEADER_BYTES = 2 + 8 + MASKING_KEY_BYTES;

    private WebSocketProtocol() {
    }

    /**
     * Tells whether {@code opcode} is one RFC 6455 defines: continuation, text, binary, close, ping, pong.
     *
     * @param opcode an opcode, 0 to 15
     * @return false for the reserved opcodes 0x3-0x7 and 0xB-0xF
     */
    public static boolean isDefinedOpcode(int opcode) {
        return opcode <= OPCODE_BINARY || opcode >= OPCODE_CLOSE && opcode <= OPCODE_PONG;
    }

    /**
     * Tells whether the first byte of a frame header starts a close frame.
     *
     * @param headerByte0 the first byte of a frame
     * @return true if its opcode is {@link #OPCODE_CLOSE}
     */
    public static boolean isCloseFrameStart(byte headerByte0) {
        return (headerByte0 & B0_MASK_OPCODE) == OPCODE_CLOSE;
    }
}

package org.wsdetach.spi;

import jakarta.websocket.CloseReason;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.ByteBuffer;
import java.util.HexFormat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalStateException;
import static org.assertj.core.api.Assertions.assertThatIndexOutOfBoundsException;

class FrameScannerTest {

    /** The masking key of the RFC 6455 section 5.7 examples, used by {@link #frame}. */
    private static final String KEY = "37fa213d";

    private static final String TEXT_HELLO = "810548656c6c6f";
    private static final String CLOSE_1000_HELLO = "880703e848656c6c6f";
    private static final String RAW_AFTER_CLOSE = "68656c6c6f";

    @Test
    void maskingHelperMatchesRfcExample() {
        assertThat(frame(true, TEXT_HELLO)).isEqualTo("818537fa213d7f9f4d5158");
        assertThat(frame(false, TEXT_HELLO)).isEqualTo(TEXT_HELLO);
    }

    @Test
    void initialState() {
        FrameScanner scanner = new FrameScanner(true);
        assertThat(scanner.atFrameStart()).isTrue();
        assertThat(scanner.frameComplete()).isFalse();
        assertThat(scanner.opcode()).isEqualTo(-1);
        assertThat(scanner.fin()).isFalse();
        assertThat(scanner.error()).isNull();
        assertThatIllegalStateException().isThrownBy(scanner::closeReason);
        assertThat(scanner.scan(buffer("81"), 0, 0)).isZero();
        assertThat(scanner.atFrameStart()).isTrue();
        assertThat(scanner.opcode()).isEqualTo(-1);
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void textFrameWhole(boolean masked) {
        ByteBuffer buffer = buffer(frame(masked, TEXT_HELLO));
        FrameScanner scanner = new FrameScanner(masked);
        assertThat(scanner.scan(buffer, 0, buffer.capacity())).isEqualTo(buffer.capacity());
        assertThat(scanner.frameComplete()).isTrue();
        assertThat(scanner.atFrameStart()).isTrue();
        assertThat(scanner.opcode()).isEqualTo(1);
        assertThat(scanner.fin()).isTrue();
        assertThat(scanner.error()).isNull();
        assertThatIllegalStateException().isThrownBy(scanner::closeReason);
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void textFrameSplitAtEveryPosition(boolean masked) {
        ByteBuffer buffer = buffer(frame(masked, TEXT_HELLO));
        int end = buffer.capacity();
        for (int split = 1; split < end; split++) {
            FrameScanner scanner = new FrameScanner(masked);
            assertThat(scanner.scan(buffer, 0, split)).isEqualTo(split);
            assertThat(scanner.frameComplete()).isFalse();
            assertThat(scanner.atFrameStart()).isFalse();
            assertThat(scanner.opcode()).isEqualTo(1);
            assertThat(scanner.scan(buffer, split, end)).isEqualTo(end);
            assertThat(scanner.frameComplete()).isTrue();
        }
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void textFrameByteByByte(boolean masked) {
        ByteBuffer buffer = buffer(frame(masked, TEXT_HELLO));
        int end = buffer.capacity();
        FrameScanner scanner = new FrameScanner(masked);
        for (int i = 0; i < end - 1; i++) {
            assertThat(scanner.scan(buffer, i, i + 1)).isEqualTo(i + 1);
            assertThat(scanner.frameComplete()).isFalse();
        }
        assertThat(scanner.scan(buffer, end - 1, end)).isEqualTo(end);
        assertThat(scanner.frameComplete()).isTrue();
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void twoFramesStopAfterTheFirst(boolean masked) {
        String first = frame(masked, TEXT_HELLO);
        ByteBuffer buffer = buffer(first + frame(masked, "0203010203"));
        int firstEnd = first.length() / 2;
        FrameScanner scanner = new FrameScanner(masked);
        assertThat(scanner.scan(buffer, 0, buffer.capacity())).isEqualTo(firstEnd);
        assertThat(scanner.frameComplete()).isTrue();
        assertThat(scanner.scan(buffer, firstEnd, buffer.capacity())).isEqualTo(buffer.capacity());
        assertThat(scanner.frameComplete()).isTrue();
        assertThat(scanner.opcode()).isEqualTo(2);
        assertThat(scanner.fin()).isFalse();
    }

    @Test
    void unmaskedTwoFramesStopAtIndexSeven() {
        ByteBuffer buffer = buffer(TEXT_HELLO + "8a00");
        FrameScanner scanner = new FrameScanner(false);
        assertThat(scanner.scan(buffer, 0, 9)).isEqualTo(7);
        assertThat(scanner.scan(buffer, 7, 9)).isEqualTo(9);
        assertThat(scanner.opcode()).isEqualTo(10);
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void sixteenBitLength(boolean masked) {
        String header = frame(masked, "827e0100");
        ByteBuffer buffer = ByteBuffer.allocate(header.length() / 2 + 256 + 2);
        buffer.put(bytes(header));
        int end = header.length() / 2 + 256;
        FrameScanner scanner = new FrameScanner(masked);
        // split inside the length bytes
        assertThat(scanner.scan(buffer, 0, 3)).isEqualTo(3);
        assertThat(scanner.scan(buffer, 3, buffer.capacity())).isEqualTo(end);
        assertThat(scanner.frameComplete()).isTrue();
        assertThat(scanner.opcode()).isEqualTo(2);
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void sixtyFourBitLengthSkipsPayloadInChunks(boolean masked) {
        String header = frame(masked, "827f0000000000010000");
        int headerLength = header.length() / 2;
        int end = headerLength + 65536;
        ByteBuffer buffer = ByteBuffer.allocate(end + 100);
        buffer.put(bytes(header));
        FrameScanner scanner = new FrameScanner(masked);
        int index = 0;
        while (!scanner.frameComplete()) {
            int chunkEnd = Math.min(index + 1000, buffer.capacity());
            int next = scanner.scan(buffer, index, chunkEnd);
            assertThat(next).isEqualTo(scanner.frameComplete() ? end : chunkEnd);
            index = next;
        }
        assertThat(index).isEqualTo(end);
        assertThat(scanner.opcode()).isEqualTo(2);
        assertThat(scanner.error()).isNull();
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void payloadLongerThanAnIntIsSkippedByArithmetic(boolean masked) {
        // 2^33 payload bytes: scanning the same chunk 8192 times takes no time only if it is not read.
        FrameScanner scanner = new FrameScanner(masked);
        ByteBuffer header = buffer(frame(masked, "827f0000000200000000"));
        assertThat(scanner.scan(header, 0, header.capacity())).isEqualTo(header.capacity());
        ByteBuffer chunk = ByteBuffer.allocate(1 << 20);
        for (int i = 0; i < 8191; i++) {
            assertThat(scanner.scan(chunk, 0, chunk.capacity())).isEqualTo(chunk.capacity());
            assertThat(scanner.frameComplete()).isFalse();
        }
        assertThat(scanner.scan(chunk, 10, chunk.capacity())).isEqualTo(chunk.capacity());
        assertThat(scanner.frameComplete()).isFalse();
        assertThat(scanner.scan(chunk, 0, chunk.capacity())).isEqualTo(10);
        assertThat(scanner.frameComplete()).isTrue();
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void closeFrameSplitAtEveryPositionLeavesFollowingBytesUntouched(boolean masked) {
        String close = frame(masked, CLOSE_1000_HELLO);
        byte[] stream = bytes(close + RAW_AFTER_CLOSE);
        int closeEnd = close.length() / 2;
        for (int split = 0; split <= stream.length; split++) {
            ByteBuffer buffer = ByteBuffer.wrap(stream.clone());
            FrameScanner scanner = new FrameScanner(masked);
            int index = scanner.scan(buffer, 0, split);
            assertThat(index).isEqualTo(Math.min(split, closeEnd));
            if (index < closeEnd) {
                assertThat(scanner.scan(buffer, index, stream.length)).isEqualTo(closeEnd);
            }
            assertThat(scanner.frameComplete()).isTrue();
            assertThat(scanner.opcode()).isEqualTo(8);
            CloseReason reason = scanner.closeReason();
            assertThat(reason.getCloseCode().getCode()).isEqualTo(1000);
            assertThat(reason.getReasonPhrase()).isEqualTo("Hello");
            assertThat(buffer.array()).isEqualTo(stream);
            assertThat(hex(buffer, closeEnd, stream.length)).isEqualTo(RAW_AFTER_CLOSE);
        }
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void emptyCloseIsNoStatus(boolean masked) {
        ByteBuffer buffer = buffer(frame(masked, "8800") + RAW_AFTER_CLOSE);
        FrameScanner scanner = new FrameScanner(masked);
        int end = masked ? 6 : 2;
        assertThat(scanner.scan(buffer, 0, buffer.capacity())).isEqualTo(end);
        assertThat(scanner.frameComplete()).isTrue();
        assertThat(scanner.closeReason().getCloseCode()).isEqualTo(CloseReason.CloseCodes.NO_STATUS_CODE);
        assertThat(scanner.closeReason().getReasonPhrase()).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void registeredStatusWithoutConstantIsKept(boolean masked) {
        ByteBuffer buffer = buffer(frame(masked, "88040fa0c3a9"));
        FrameScanner scanner = new FrameScanner(masked);
        scanner.scan(buffer, 0, buffer.capacity());
        assertThat(scanner.closeReason().getCloseCode().getCode()).isEqualTo(4000);
        assertThat(scanner.closeReason().getReasonPhrase()).isEqualTo("é");
    }

    @Test
    void closeReasonIsForgottenAtTheNextFrame() {
        ByteBuffer buffer = buffer("8800" + "8800");
        FrameScanner scanner = new FrameScanner(false);
        assertThat(scanner.scan(buffer, 0, 4)).isEqualTo(2);
        assertThat(scanner.closeReason().getCloseCode().getCode()).isEqualTo(1005);
        assertThat(scanner.scan(buffer, 2, 3)).isEqualTo(3);
        assertThatIllegalStateException().isThrownBy(scanner::closeReason);
        assertThat(scanner.atFrameStart()).isFalse();
        assertThat(scanner.frameComplete()).isFalse();
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void pingSplitAcrossChunks(boolean masked) {
        ByteBuffer buffer = buffer(frame(masked, "8905" + "48656c6c6f") + "8a00");
        int end = masked ? 11 : 7;
        for (int split = 1; split < end; split++) {
            FrameScanner scanner = new FrameScanner(masked);
            assertThat(scanner.scan(buffer, 0, split)).isEqualTo(split);
            assertThat(scanner.scan(buffer, split, split + 1)).isEqualTo(split + 1);
            assertThat(scanner.frameComplete()).isEqualTo(split + 1 == end);
            if (split + 1 < end) {
                assertThat(scanner.scan(buffer, split + 1, buffer.capacity())).isEqualTo(end);
            }
            assertThat(scanner.frameComplete()).isTrue();
            assertThat(scanner.opcode()).isEqualTo(9);
        }
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void zeroLengthFramesCompleteWithTheirHeader(boolean masked) {
        String text = frame(masked, "0100");
        String continuation = frame(masked, "8000");
        String pong = frame(masked, "8a00");
        ByteBuffer buffer = buffer(text + continuation + pong);
        int size = text.length() / 2;
        FrameScanner scanner = new FrameScanner(masked);
        int[] opcodes = {1, 0, 10};
        boolean[] fins = {false, true, true};
        for (int i = 0; i < 3; i++) {
            assertThat(scanner.scan(buffer, i * size, buffer.capacity())).isEqualTo((i + 1) * size);
            assertThat(scanner.frameComplete()).isTrue();
            assertThat(scanner.opcode()).isEqualTo(opcodes[i]);
            assertThat(scanner.fin()).isEqualTo(fins[i]);
        }
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void framesAtAnOffset(boolean masked) {
        String close = frame(masked, CLOSE_1000_HELLO);
        ByteBuffer buffer = buffer("deadbeef" + close + RAW_AFTER_CLOSE);
        FrameScanner scanner = new FrameScanner(masked);
        assertThat(scanner.scan(buffer, 4, 6)).isEqualTo(6);
        assertThat(scanner.scan(buffer, 6, buffer.capacity())).isEqualTo(4 + close.length() / 2);
        assertThat(scanner.closeReason().getReasonPhrase()).isEqualTo("Hello");
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void positionAndLimitAreUntouched(boolean masked) {
        byte[] stream = bytes(frame(masked, CLOSE_1000_HELLO) + RAW_AFTER_CLOSE);
        for (ByteBuffer buffer : new ByteBuffer[] {ByteBuffer.allocate(stream.length + 4),
                ByteBuffer.allocateDirect(stream.length + 4)}) {
            buffer.put(2, stream).position(5).limit(stream.length + 3);
            FrameScanner scanner = new FrameScanner(masked);
            assertThat(scanner.scan(buffer, 2, 4)).isEqualTo(4);
            assertThat(scanner.scan(buffer, 4, stream.length + 2)).isEqualTo(stream.length + 2 - 5);
            assertThat(scanner.closeReason().getReasonPhrase()).isEqualTo("Hello");
            assertThat(buffer.position()).isEqualTo(5);
            assertThat(buffer.limit()).isEqualTo(stream.length + 3);
            assertThat(hex(buffer, 2, stream.length + 2)).isEqualTo(HexFormat.of().formatHex(stream));
        }
    }

    @Test
    void indicesMustLieBelowTheLimit() {
        ByteBuffer buffer = buffer(TEXT_HELLO).limit(3);
        FrameScanner scanner = new FrameScanner(false);
        assertThatIndexOutOfBoundsException().isThrownBy(() -> scanner.scan(buffer, 0, 4));
        assertThatIndexOutOfBoundsException().isThrownBy(() -> scanner.scan(buffer, 2, 1));
        assertThatIndexOutOfBoundsException().isThrownBy(() -> scanner.scan(buffer, -1, 1));
        assertThat(scanner.atFrameStart()).isTrue();
        assertThat(scanner.scan(buffer, 0, 3)).isEqualTo(3);
    }

    @ParameterizedTest(name = "{0} -> {1} at {2}")
    @CsvSource(delimiter = '|', value = {
            "880103           | close payload of 1 byte           | 3",
            "880203ed         | close status 1005 may not be sent | 4",
            "880203e7         | close status 999 may not be sent  | 4",
            "88020000         | close status 0 may not be sent    | 4",
            "88021388         | close status 5000 may not be sent | 4",
            "880303e8ff       | close reason is not valid UTF-8   | 5",
            "880403e8c0af     | close reason is not valid UTF-8   | 6",
            "880503e8eda080   | close reason is not valid UTF-8   | 7",
            "880403e8e282     | close reason is not valid UTF-8   | 6",
            "83               | reserved opcode 0x3               | 1",
            "8b00             | reserved opcode 0xb               | 1",
            "f7               | reserved opcode 0x7               | 1",
            "0900             | fragmented control frame, opcode 0x9 | 1",
            "0800             | fragmented control frame, opcode 0x8 | 1",
            "897e007e         | control frame with more than 125 payload bytes, opcode 0x9 | 2",
            "8a7f             | control frame with more than 125 payload bytes, opcode 0xa | 2",
            "827f800000000000000000 | 64-bit payload length with the most significant bit set | 3",
    })
    void protocolErrors(String unmaskedFrame, String error, int unmaskedEnd) {
        for (boolean masked : new boolean[] {false, true}) {
            String frame = frame(masked, unmaskedFrame);
            // The mask key, when there is one, sits before the close payload that reveals close errors.
            int end = masked && unmaskedFrame.startsWith("88") ? unmaskedEnd + 4 : unmaskedEnd;
            ByteBuffer buffer = buffer("00" + frame + "8100");
            FrameScanner scanner = new FrameScanner(masked);
            assertThat(scanner.scan(buffer, 1, buffer.capacity())).isEqualTo(1 + end);
            assertThat(scanner.error()).isEqualTo(error);
            assertThat(scanner.frameComplete()).isFalse();
            assertThatIllegalStateException().isThrownBy(scanner::closeReason);
            assertThat(scanner.scan(buffer, 1 + end, buffer.capacity())).isEqualTo(1 + end);
            assertThat(scanner.scan(buffer, 0, 1)).isZero();
            assertThat(scanner.error()).isEqualTo(error);
        }
    }

    @Test
    void maskedFrameWhenUnmaskedExpected() {
        ByteBuffer buffer = buffer("818537fa213d7f9f4d5158");
        FrameScanner scanner = new FrameScanner(false);
        assertThat(scanner.scan(buffer, 0, buffer.capacity())).isEqualTo(2);
        assertThat(scanner.error()).isEqualTo("masked frame, no mask was expected");
        assertThat(scanner.scan(buffer, 2, buffer.capacity())).isEqualTo(2);
    }

    @Test
    void unmaskedFrameWhenMaskedExpected() {
        ByteBuffer buffer = buffer(TEXT_HELLO);
        FrameScanner scanner = new FrameScanner(true);
        assertThat(scanner.scan(buffer, 0, buffer.capacity())).isEqualTo(2);
        assertThat(scanner.error()).isEqualTo("unmasked frame, a mask was expected");
        assertThat(scanner.scan(buffer, 2, buffer.capacity())).isEqualTo(2);
    }

    @Test
    void uncheckedMaskingFollowsEachHeadersOwnMaskBit() {
        // A server scanner passing frames to a container that accepts unmasked ones: an unmasked text frame,
        // then a masked one, then an unmasked close "Hello" whose payload must not be unmasked.
        ByteBuffer buffer = buffer(TEXT_HELLO + frame(true, TEXT_HELLO) + CLOSE_1000_HELLO);
        FrameScanner scanner = new FrameScanner(true);
        scanner.checkMasking(false);
        assertThat(scanner.scan(buffer, 0, buffer.capacity())).isEqualTo(7);
        assertThat(scanner.scan(buffer, 7, buffer.capacity())).isEqualTo(18);
        assertThat(scanner.scan(buffer, 18, buffer.capacity())).isEqualTo(27);
        assertThat(scanner.error()).isNull();
        assertThat(scanner.closeReason().getReasonPhrase()).isEqualTo("Hello");
    }

    @Test
    void maskingCheckedAgainTakesEffectAtTheNextHeader() {
        ByteBuffer buffer = buffer(TEXT_HELLO + TEXT_HELLO);
        FrameScanner scanner = new FrameScanner(true);
        scanner.checkMasking(false);
        assertThat(scanner.scan(buffer, 0, 3)).isEqualTo(3);
        scanner.checkMasking(true);
        assertThat(scanner.scan(buffer, 3, buffer.capacity())).isEqualTo(7);
        assertThat(scanner.scan(buffer, 7, buffer.capacity())).isEqualTo(9);
        assertThat(scanner.error()).isEqualTo("unmasked frame, a mask was expected");
    }

    @Test
    void rsvBitsAndNonMinimalLengthsAreAllowed() {
        ByteBuffer buffer = buffer("f1" + "7e0001" + "21" + "c1" + "7f0000000000000000");
        FrameScanner scanner = new FrameScanner(false);
        assertThat(scanner.scan(buffer, 0, buffer.capacity())).isEqualTo(5);
        assertThat(scanner.scan(buffer, 5, buffer.capacity())).isEqualTo(buffer.capacity());
        assertThat(scanner.error()).isNull();
        assertThat(scanner.frameComplete()).isTrue();
    }

    /**
     * The frame that a client would send for {@code unmaskedFrame}, masked with {@link #KEY}, or
     * {@code unmaskedFrame} itself when {@code masked} is false. The mask bit is set and the key inserted
     * even when the header is incomplete; the payload present is masked.
     */
    private static String frame(boolean masked, String unmaskedFrame) {
        if (!masked) {
            return unmaskedFrame;
        }
        byte[] frame = bytes(unmaskedFrame);
        if (frame.length < 2) {
            return unmaskedFrame;
        }
        int length7 = frame[1] & 0x7f;
        int lengthEnd = Math.min(frame.length, length7 == 126 ? 4 : length7 == 127 ? 10 : 2);
        byte[] key = bytes(KEY);
        byte[] result = new byte[frame.length + 4];
        System.arraycopy(frame, 0, result, 0, lengthEnd);
        result[1] |= (byte) 0x80;
        System.arraycopy(key, 0, result, lengthEnd, 4);
        for (int i = lengthEnd; i < frame.length; i++) {
            result[i + 4] = (byte) (frame[i] ^ key[(i - lengthEnd) & 3]);
        }
        return HexFormat.of().formatHex(result);
    }

    private static byte[] bytes(String hex) {
        return HexFormat.of().parseHex(hex);
    }

    private static ByteBuffer buffer(String hex) {
        return ByteBuffer.wrap(bytes(hex));
    }

    private static String hex(ByteBuffer buffer, int from, int to) {
        byte[] bytes = new byte[to - from];
        buffer.get(from, bytes);
        return HexFormat.of().formatHex(bytes);
    }
}

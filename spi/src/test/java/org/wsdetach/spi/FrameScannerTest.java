package org.wsdetach.spi;

import jakarta.websocket.CloseReason;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
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
            assertThat(scanner.atFrameStart()).isFalse();
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

    // ---- frame-length boundaries ----

    @ParameterizedTest(name = "7-bit length {0}")
    @ValueSource(ints = {0, 1, 124, 125})
    void sevenBitLengthsUpTo125(int length) {
        for (boolean masked : new boolean[] {false, true}) {
            assertFrameEndsAfter(masked, String.format("82%02x", length), length);
        }
    }

    @ParameterizedTest(name = "16-bit length 0x{0}")
    @ValueSource(strings = {"0000", "007e", "00ff", "0100", "7fff", "8000", "8001", "80ff", "ff00", "fffe", "ffff"})
    void sixteenBitLengthsAtAndAbove0x8000(String length) {
        // Each length byte is unsigned: a scanner that sign-extended one would get every length of 32 KiB
        // or more, or any low byte of 0x80 or more, wrong.
        for (boolean masked : new boolean[] {false, true}) {
            assertFrameEndsAfter(masked, "827e" + length, Integer.parseInt(length, 16));
        }
    }

    @ParameterizedTest(name = "64-bit length 0x{0}")
    @ValueSource(strings = {"0000000000000000", "000000000000007d", "000000000000ffff", "0000000000010000",
            "0000000000018000", "00000000000080ff"})
    void sixtyFourBitLengths(String length) {
        for (boolean masked : new boolean[] {false, true}) {
            assertFrameEndsAfter(masked, "827f" + length, Integer.parseInt(length, 16));
        }
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void sixtyFourBitLengthCountsEveryByteAtItsWeight(boolean masked) {
        // 0x0000000102030405 = 4,328,719,365 bytes, skipped by arithmetic in 1 MiB chunks.
        long length = 0x0000000102030405L;
        ByteBuffer header = buffer(frame(masked, "827f0000000102030405"));
        FrameScanner scanner = new FrameScanner(masked);
        assertThat(scanner.scan(header, 0, header.capacity())).isEqualTo(header.capacity());
        ByteBuffer chunk = ByteBuffer.allocate(1 << 20);
        long chunks = length / chunk.capacity();
        for (long i = 0; i < chunks; i++) {
            assertThat(scanner.scan(chunk, 0, chunk.capacity())).isEqualTo(chunk.capacity());
        }
        int rest = (int) (length % chunk.capacity());
        assertThat(scanner.frameComplete()).isFalse();
        assertThat(scanner.scan(chunk, 0, chunk.capacity())).isEqualTo(rest);
        assertThat(scanner.frameComplete()).isTrue();
        assertThat(scanner.error()).isNull();
    }

    @ParameterizedTest(name = "high bit in 64-bit length byte {0}")
    @ValueSource(ints = {1, 2, 3, 4, 5, 6, 7})
    void onlyTheFirstOfTheEightLengthBytesMayNotHaveItsHighBitSet(int lengthByte) {
        // Byte 0 is the error case of protocolErrors; bytes 1 to 7 with their high bit set are lengths.
        StringBuilder length = new StringBuilder("0000000000000000");
        length.replace(2 * lengthByte, 2 * lengthByte + 2, "80");
        for (boolean masked : new boolean[] {false, true}) {
            ByteBuffer buffer = buffer(frame(masked, "827f" + length));
            FrameScanner scanner = new FrameScanner(masked);
            assertThat(scanner.scan(buffer, 0, buffer.capacity())).isEqualTo(buffer.capacity());
            assertThat(scanner.error()).isNull();
            assertThat(scanner.atFrameStart()).isFalse();
            assertThat(scanner.frameComplete()).isFalse();
        }
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void theLongestLegal64BitLengthIsAccepted(boolean masked) {
        ByteBuffer buffer = buffer(frame(masked, "827f7fffffffffffffff"));
        FrameScanner scanner = new FrameScanner(masked);
        assertThat(scanner.scan(buffer, 0, buffer.capacity())).isEqualTo(buffer.capacity());
        ByteBuffer chunk = ByteBuffer.allocate(1 << 20);
        assertThat(scanner.scan(chunk, 0, chunk.capacity())).isEqualTo(chunk.capacity());
        assertThat(scanner.error()).isNull();
        assertThat(scanner.frameComplete()).isFalse();
    }

    @Test
    void aSixteenBitLengthWithItsHighBitSetIsNotA64BitError() {
        ByteBuffer buffer = buffer("827e80");
        FrameScanner scanner = new FrameScanner(false);
        assertThat(scanner.scan(buffer, 0, 3)).isEqualTo(3);
        assertThat(scanner.error()).isNull();
    }

    // ---- the 125-byte control limit ----

    @ParameterizedTest(name = "opcode {0}")
    @ValueSource(strings = {"89", "8a"})
    void aControlFrameOf125BytesIsAccepted(String b0) {
        for (boolean masked : new boolean[] {false, true}) {
            assertFrameEndsAfter(masked, b0 + "7d", 125);
        }
    }

    @ParameterizedTest(name = "opcode {0}")
    @ValueSource(strings = {"88", "89", "8a"})
    void aControlFrameOf126BytesIsRejectedAtItsLengthByte(String b0) {
        for (boolean masked : new boolean[] {false, true}) {
            ByteBuffer buffer = buffer(frame(masked, b0 + "7e"));
            FrameScanner scanner = new FrameScanner(masked);
            assertThat(scanner.scan(buffer, 0, buffer.capacity())).isEqualTo(2);
            assertThat(scanner.error()).isEqualTo("control frame with more than 125 payload bytes, opcode 0x"
                    + b0.charAt(1));
            assertThat(scanner.atFrameStart()).isFalse();
            assertThat(scanner.frameComplete()).isFalse();
        }
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void aCloseFrameOf125BytesCarriesA123ByteReason(boolean masked) {
        String reason = "a".repeat(123);
        String close = frame(masked, "887d" + "0bb8" + HexFormat.of().formatHex(reason.getBytes(StandardCharsets.UTF_8)));
        ByteBuffer buffer = buffer(close + RAW_AFTER_CLOSE);
        FrameScanner scanner = new FrameScanner(masked);
        assertThat(scanner.scan(buffer, 0, buffer.capacity())).isEqualTo(close.length() / 2);
        assertThat(scanner.closeReason().getCloseCode().getCode()).isEqualTo(3000);
        assertThat(scanner.closeReason().getReasonPhrase()).isEqualTo(reason);
    }

    // ---- FIN and opcode from the first byte alone ----

    @ParameterizedTest(name = "first byte {0}: opcode {1}, FIN {2}")
    @CsvSource({
            "00, 0, false", "01, 1, false", "02, 2, false", "71, 1, false", "40, 0, false",
            "80, 0, true", "81, 1, true", "82, 2, true", "f2, 2, true", "89, 9, true", "8a, 10, true", "88, 8, true",
    })
    void theFirstByteAloneGivesOpcodeAndFin(String b0, int opcode, boolean fin) {
        FrameScanner scanner = new FrameScanner(false);
        assertThat(scanner.scan(buffer(b0 + "00"), 0, 1)).isEqualTo(1);
        assertThat(scanner.opcode()).isEqualTo(opcode);
        assertThat(scanner.fin()).isEqualTo(fin);
        assertThat(scanner.error()).isNull();
        assertThat(scanner.atFrameStart()).isFalse();
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void aFinLessFirstFrameThenItsContinuation(boolean masked) {
        String first = frame(masked, "0103" + "486565");
        String last = frame(masked, "8002" + "6c6f");
        ByteBuffer buffer = buffer(first + last);
        int firstEnd = first.length() / 2;
        FrameScanner scanner = new FrameScanner(masked);
        assertThat(scanner.scan(buffer, 0, buffer.capacity())).isEqualTo(firstEnd);
        assertThat(scanner.opcode()).isEqualTo(1);
        assertThat(scanner.fin()).isFalse();
        assertThat(scanner.scan(buffer, firstEnd, buffer.capacity())).isEqualTo(buffer.capacity());
        assertThat(scanner.opcode()).isZero();
        assertThat(scanner.fin()).isTrue();
    }

    // ---- a close frame after an extended-length frame ----

    @ParameterizedTest(name = "masked {0}, data frame header {1}")
    @CsvSource({
            "false, 827e0100, 256", "true, 827e0100, 256",
            "false, 027e8000, 32768", "true, 027e8000, 32768",
            "false, 827f0000000000010000, 65536", "true, 827f0000000000010000, 65536",
    })
    void aCloseFrameAfterAnExtendedLengthFrame(boolean masked, String dataHeader, int dataLength) {
        // The close frame's own 7-bit length and masking key must not be read where the data frame had its.
        String header = frame(masked, dataHeader);
        String close = frame(masked, CLOSE_1000_HELLO);
        int dataEnd = header.length() / 2 + dataLength;
        int closeEnd = dataEnd + close.length() / 2;
        ByteBuffer buffer = ByteBuffer.allocate(closeEnd + RAW_AFTER_CLOSE.length() / 2);
        buffer.put(0, bytes(header)).put(dataEnd, bytes(close + RAW_AFTER_CLOSE));
        FrameScanner scanner = new FrameScanner(masked);
        assertThat(scanner.scan(buffer, 0, buffer.capacity())).isEqualTo(dataEnd);
        assertThat(scanner.scan(buffer, dataEnd, buffer.capacity())).isEqualTo(closeEnd);
        assertThat(scanner.error()).isNull();
        assertThat(scanner.opcode()).isEqualTo(8);
        assertThat(scanner.closeReason().getCloseCode().getCode()).isEqualTo(1000);
        assertThat(scanner.closeReason().getReasonPhrase()).isEqualTo("Hello");
        assertThat(hex(buffer, closeEnd, buffer.capacity())).isEqualTo(RAW_AFTER_CLOSE);
    }

    @Test
    void anUnmaskedCloseFrameAfterAMaskedOneIsNotUnmaskedWithTheOldKey() {
        ByteBuffer buffer = buffer(frame(true, TEXT_HELLO) + CLOSE_1000_HELLO);
        FrameScanner scanner = new FrameScanner(true);
        scanner.checkMasking(false);
        assertThat(scanner.scan(buffer, 0, buffer.capacity())).isEqualTo(11);
        assertThat(scanner.scan(buffer, 11, buffer.capacity())).isEqualTo(20);
        assertThat(scanner.closeReason().getReasonPhrase()).isEqualTo("Hello");
    }

    // ---- after an error ----

    @Test
    void aMaskedCloseFrameWhenUnmaskedExpectedIsNoCloseFrame() {
        ByteBuffer buffer = buffer("8880" + KEY);
        FrameScanner scanner = new FrameScanner(false);
        assertThat(scanner.scan(buffer, 0, buffer.capacity())).isEqualTo(2);
        assertThat(scanner.error()).isEqualTo("masked frame, no mask was expected");
        assertThat(scanner.atFrameStart()).isFalse();
        assertThat(scanner.frameComplete()).isFalse();
        assertThatIllegalStateException().isThrownBy(scanner::closeReason);
    }

    @Test
    void anUnmaskedCloseFrameWhenMaskedExpectedIsNoCloseFrame() {
        ByteBuffer buffer = buffer("8800");
        FrameScanner scanner = new FrameScanner(true);
        assertThat(scanner.scan(buffer, 0, buffer.capacity())).isEqualTo(2);
        assertThat(scanner.error()).isEqualTo("unmasked frame, a mask was expected");
        assertThat(scanner.atFrameStart()).isFalse();
        assertThatIllegalStateException().isThrownBy(scanner::closeReason);
    }

    // ---- WebSocketProtocol ----

    @Test
    void definedOpcodes() {
        for (int opcode = 0; opcode < 16; opcode++) {
            boolean defined = opcode <= 2 || opcode >= 8 && opcode <= 10;
            assertThat(WebSocketProtocol.isDefinedOpcode(opcode)).as("opcode %d", opcode).isEqualTo(defined);
        }
    }

    @Test
    void aCloseFrameStartIsOpcode8WhateverTheOtherBits() {
        for (int b = 0; b < 256; b++) {
            assertThat(WebSocketProtocol.isCloseFrameStart((byte) b)).as("byte %02x", b).isEqualTo((b & 0x0f) == 8);
        }
    }

    /**
     * Scans the frame whose header, unmasked, is {@code unmaskedHeader} and whose payload is
     * {@code length} bytes, followed by an empty pong: it must end exactly after the payload, not a byte
     * sooner, and leave the pong unconsumed.
     */
    private static void assertFrameEndsAfter(boolean masked, String unmaskedHeader, int length) {
        String header = frame(masked, unmaskedHeader);
        int end = header.length() / 2 + length;
        ByteBuffer buffer = ByteBuffer.allocate(end + 2);
        buffer.put(0, bytes(header)).put(end, bytes("8a00"));
        FrameScanner scanner = new FrameScanner(masked);
        if (end > 1) {
            assertThat(scanner.scan(buffer, 0, end - 1)).isEqualTo(end - 1);
            assertThat(scanner.frameComplete()).isFalse();
        }
        assertThat(scanner.scan(buffer, Math.max(0, end - 1), buffer.capacity())).isEqualTo(end);
        assertThat(scanner.frameComplete()).isTrue();
        assertThat(scanner.error()).isNull();
        assertThat(scanner.scan(buffer, end, buffer.capacity())).isEqualTo(end + 2);
        assertThat(scanner.opcode()).isEqualTo(10);
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

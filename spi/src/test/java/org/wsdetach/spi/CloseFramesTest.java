package org.wsdetach.spi;

import jakarta.websocket.CloseReason;
import jakarta.websocket.CloseReason.CloseCodes;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.ByteBuffer;
import java.util.HexFormat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatNullPointerException;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

class CloseFramesTest {

    private static final String EURO_123_BYTES = "€".repeat(41);

    @ParameterizedTest
    @CsvSource({
            "0, false", "999, false",
            "1000, true", "1003, true",
            "1004, false", "1005, false", "1006, false",
            "1007, true", "1014, true",
            "1015, false", "1016, false", "2999, false",
            "3000, true", "4999, true",
            "5000, false", "65535, false", "-1, false",
    })
    void sendableStatusBoundaries(int code, boolean sendable) {
        assertThat(CloseFrames.isSendableStatus(code)).isEqualTo(sendable);
    }

    @ParameterizedTest
    @ValueSource(ints = {1000, 1003, 1007, 1014, 3000, 4999})
    void sendableCodesAreAccepted(int code) {
        CloseFrames.checkLocal(reason(code, "bye"));
        assertThat(hex(CloseFrames.payload(reason(code, "")))).isEqualTo(String.format("%04x", code));
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 999, 1004, 1006, 1015, 1016, 2999, 5000})
    void unsendableCodesAreRejected(int code) {
        assertThatIllegalArgumentException()
                .isThrownBy(() -> CloseFrames.checkLocal(reason(code, "")))
                .withMessage("close status " + code + " may not be sent; use 1000-1003, 1007-1014 or 3000-4999");
    }

    @Test
    void noStatusWithEmptyReasonIsAnEmptyPayload() {
        CloseFrames.checkLocal(new CloseReason(CloseCodes.NO_STATUS_CODE, ""));
        assertThat(CloseFrames.payload(new CloseReason(CloseCodes.NO_STATUS_CODE, ""))).isEmpty();
        assertThat(CloseFrames.payload(new CloseReason(CloseCodes.NO_STATUS_CODE, null))).isEmpty();
        assertThat(CloseFrames.payload(reason(1005, null))).isEmpty();
    }

    @Test
    void noStatusWithReasonIsRejected() {
        assertThatIllegalArgumentException()
                .isThrownBy(() -> CloseFrames.checkLocal(new CloseReason(CloseCodes.NO_STATUS_CODE, "x")))
                .withMessage("close status 1005 (no status) cannot carry a reason, got \"x\"; a reason needs a status");
    }

    @Test
    void nullPhraseIsEmpty() {
        assertThat(hex(CloseFrames.payload(reason(1000, null)))).isEqualTo("03e8");
    }

    @Test
    void reasonOf123BytesIsAccepted() {
        byte[] payload = CloseFrames.payload(reason(1000, "a".repeat(123)));
        assertThat(payload).hasSize(125);
        assertThat(CloseFrames.payload(reason(1000, EURO_123_BYTES))).hasSize(125);
    }

    @Test
    void reasonOf124BytesIsRejected() {
        // Built so that CloseReason's own length check does not get there first.
        assertThatIllegalArgumentException()
                .isThrownBy(() -> CloseFrames.checkLocal(reason(1000, "a".repeat(124))))
                .withMessage("close reason is 124 UTF-8 bytes; at most 123 fit in a close frame");
        assertThatIllegalArgumentException()
                .isThrownBy(() -> CloseFrames.checkLocal(reason(1000, EURO_123_BYTES + "a")))
                .withMessage("close reason is 124 UTF-8 bytes; at most 123 fit in a close frame");
    }

    @Test
    void unpairedSurrogateIsRejected() {
        // CloseReason itself accepts it: String.getBytes would send '?' instead.
        CloseReason reason = new CloseReason(CloseCodes.NORMAL_CLOSURE, "a\uD800b");
        assertThatIllegalArgumentException()
                .isThrownBy(() -> CloseFrames.checkLocal(reason))
                .withMessage("close reason has an unpaired surrogate and cannot be encoded in UTF-8");
        assertThatIllegalArgumentException()
                .isThrownBy(() -> CloseFrames.payload(reason(1000, "\uDC00")));
    }

    @Test
    void missingCloseCodeIsRejected() {
        assertThatIllegalArgumentException()
                .isThrownBy(() -> CloseFrames.checkLocal(new CloseReason(CloseCodes.NORMAL_CLOSURE, "") {
                    @Override
                    public CloseCode getCloseCode() {
                        return null;
                    }
                }))
                .withMessage("close reason without a close code");
        assertThatNullPointerException().isThrownBy(() -> CloseFrames.checkLocal(null));
    }

    @Test
    void payloadIsStatusThenUtf8Reason() {
        assertThat(hex(CloseFrames.payload(new CloseReason(CloseCodes.GOING_AWAY, "€"))))
                .isEqualTo("03e9e282ac");
        assertThat(hex(CloseFrames.payload(reason(4999, "")))).isEqualTo("1387");
    }

    @Test
    void serverFrameWithStatusAndReason() {
        ByteBuffer frame = CloseFrames.serverFrame(new CloseReason(CloseCodes.NORMAL_CLOSURE, "detach"));
        assertThat(frame.position()).isZero();
        assertThat(frame.limit()).isEqualTo(10);
        assertThat(frame.isDirect()).isFalse();
        assertThat(hex(frame)).isEqualTo("880803e8646574616368");
    }

    @Test
    void serverFrameWithoutStatus() {
        assertThat(hex(CloseFrames.serverFrame(new CloseReason(CloseCodes.NO_STATUS_CODE, ""))))
                .isEqualTo("8800");
    }

    @Test
    void serverFrameOfLongestReason() {
        ByteBuffer frame = CloseFrames.serverFrame(reason(3000, EURO_123_BYTES));
        assertThat(frame.remaining()).isEqualTo(127);
        assertThat(hex(frame)).startsWith("887d0bb8e282ac");
    }

    @Test
    void serverFrameChecksReason() {
        assertThatIllegalArgumentException()
                .isThrownBy(() -> CloseFrames.serverFrame(reason(1006, "")));
    }

    /** A reason with any code and phrase, past the checks CloseReason and CloseCodes make. */
    private static CloseReason reason(int code, String phrase) {
        return new CloseReason(CloseCodes.NORMAL_CLOSURE, null) {
            @Override
            public CloseCode getCloseCode() {
                return () -> code;
            }

            @Override
            public String getReasonPhrase() {
                return phrase;
            }
        };
    }

    private static String hex(byte[] bytes) {
        return HexFormat.of().formatHex(bytes);
    }

    private static String hex(ByteBuffer buffer) {
        byte[] bytes = new byte[buffer.remaining()];
        buffer.duplicate().get(bytes);
        return hex(bytes);
    }

    @Test
    void aClientCloseFrameIsMaskedWithTheGivenKey() {
        ByteBuffer frame = CloseFrames.clientFrame(new CloseReason(CloseCodes.NORMAL_CLOSURE, "detach"), 0x01020304);
        byte[] bytes = new byte[frame.remaining()];
        frame.get(bytes);
        // 03e8 646574616368 xor 01020304 repeated
        assertThat(HexFormat.of().formatHex(bytes)).isEqualTo("8888" + "01020304" + "02ea67617563606c");
        ByteBuffer empty = CloseFrames.clientFrame(new CloseReason(CloseCodes.NO_STATUS_CODE, ""), 0x7f000001);
        assertThat(empty.remaining()).isEqualTo(6);
        assertThat(empty.get(1)).isEqualTo((byte) 0x80);
    }
}

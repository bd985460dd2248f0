package org.wsdetach.spi;

import jakarta.websocket.CloseReason;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Properties of {@link FrameScanner} over random streams, as a provider feeds them: the peer's frames
 * (text, binary and continuation frames, fragmented messages, pings and pongs between them, payload
 * lengths in the 7-bit, 16-bit and 64-bit encodings with their boundaries), masked as the role requires,
 * then the peer's close frame, then raw bytes that are no WebSocket at all (often looking like frame
 * headers), the whole cut into random chunks that are scanned one after the other, each in a buffer of its
 * own at a random offset, until the close frame ends.
 *
 * <p>Each case is made from its own seed alone. The base seed is fixed, so every build runs the same
 * cases; a failure names the seed of its case, and {@code -Dwsdetach.seed=SEED} runs that one case (of each
 * property) instead of them all:
 * {@code mvn -B -o test -pl spi -Dtest=FrameScannerPropertyTest -Dwsdetach.seed=SEED}.
 */
class FrameScannerPropertyTest {

    private static final String SEED_PROPERTY = "wsdetach.seed";
    private static final long BASE_SEED = 0x5EED_0000_0009L;
    /** The valid cases' seeds are BASE_SEED + i; the corrupted cases' follow them. */
    private static final int VALID_CASES = 100_000;
    private static final int CORRUPTED_CASES = 20_000;

    private static final int MAX_FRAMES_BEFORE_CLOSE = 8;
    private static final int LONGEST_CHUNK = 100_000;
    private static final int MAX_CHUNK_OFFSET = 16;

    /** Payload bytes, copied from at random offsets: random content without a call per byte. */
    private static final byte[] POOL = new byte[80_000];

    static {
        new SplittableRandom(BASE_SEED).nextBytes(POOL);
    }

    private final Stream stream = new Stream();
    private final ByteBuffer heapChunk = ByteBuffer.allocate(LONGEST_CHUNK + MAX_CHUNK_OFFSET);
    private final ByteBuffer directChunk = ByteBuffer.allocateDirect(LONGEST_CHUNK + MAX_CHUNK_OFFSET);
    private byte[] afterClose = new byte[1024];

    @Test
    void aValidStreamIsCutExactlyAtTheEndOfThePeersCloseFrame() {
        forEachCase(BASE_SEED, VALID_CASES, this::validCase);
    }

    @Test
    void aCorruptedHeaderByteGivesItsErrorThereAndNothingAfterItIsConsumed() {
        forEachCase(BASE_SEED + VALID_CASES, CORRUPTED_CASES, this::corruptedCase);
    }

    private interface Case {
        void run(long seed);
    }

    private static void forEachCase(long firstSeed, int cases, Case property) {
        String replay = System.getProperty(SEED_PROPERTY);
        if (replay != null && !replay.isBlank()) {
            runCase(property, Long.decode(replay.trim()));
            return;
        }
        for (int i = 0; i < cases; i++) {
            runCase(property, firstSeed + i);
        }
    }

    private static void runCase(Case property, long seed) {
        try {
            property.run(seed);
        } catch (AssertionError | RuntimeException e) {
            throw new AssertionError("case with seed " + seed + " failed (replay it with -D" + SEED_PROPERTY + "="
                    + seed + "): " + e.getMessage(), e);
        }
    }

    // ---------------------------------------------------------------------------------------- valid streams

    private void validCase(long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        boolean masked = random.nextBoolean();
        stream.generate(random, masked);
        FrameScanner scanner = new FrameScanner(masked);
        ByteBuffer chunk = random.nextInt(4) == 0 ? directChunk : heapChunk;

        int frame = 0;
        int offset = 0;
        int afterCloseLength = -1;
        while (offset < stream.length) {
            int length = chunkLength(random, stream.length - offset);
            int at = random.nextInt(MAX_CHUNK_OFFSET);
            chunk.clear().put(at, stream.bytes, offset, length).limit(at + length);
            int end = at + length;
            if (afterCloseLength >= 0) {
                afterCloseLength = keep(chunk, at, end, afterCloseLength);
                offset += length;
                continue;
            }
            int index = at;
            while (index < end) {
                int next = scanner.scan(chunk, index, end);
                expect(scanner.error() == null, "no error", scanner.error());
                if (!scanner.frameComplete()) {
                    expectEquals(end, next, "a frame that does not complete consumes the whole chunk");
                    expect(!scanner.atFrameStart(), "inside a frame", frame);
                    index = next;
                    continue;
                }
                int frameEnd = offset + next - at;
                expectEquals(stream.frameEnd[frame], frameEnd, "end of frame " + frame);
                expectEquals(stream.opcode[frame], scanner.opcode(), "opcode of frame " + frame);
                expect(stream.fin[frame] == scanner.fin(), "FIN of frame " + frame, scanner.fin());
                expect(scanner.atFrameStart(), "at a frame start after frame " + frame, frameEnd);
                if (frame == stream.closeFrame) {
                    CloseReason reason = scanner.closeReason();
                    expectEquals(stream.closeCode, reason.getCloseCode().getCode(), "close status");
                    expect(stream.closePhrase.equals(reason.getReasonPhrase()), "close reason "
                            + quoted(stream.closePhrase), quoted(reason.getReasonPhrase()));
                    // What a provider hands over: the rest of this chunk and every later chunk.
                    afterCloseLength = keep(chunk, next, end, 0);
                    break;
                }
                frame++;
                index = next;
            }
            offset += length;
        }
        expect(afterCloseLength >= 0, "the close frame was found", frame);
        expect(Arrays.equals(afterClose, 0, afterCloseLength, stream.bytes, stream.tailStart, stream.length),
                "the bytes after the close frame are the tail of " + (stream.length - stream.tailStart) + " bytes",
                afterCloseLength + " other bytes");
    }

    private int keep(ByteBuffer chunk, int from, int to, int kept) {
        if (kept + to - from > afterClose.length) {
            afterClose = Arrays.copyOf(afterClose, Math.max(2 * afterClose.length, kept + to - from));
        }
        chunk.get(from, afterClose, kept, to - from);
        return kept + to - from;
    }

    // ---------------------------------------------------------------------------------------- corrupted streams

    /** Single header-byte corruptions whose error, and the byte that reveals it, can be stated exactly. */
    private enum Corruption {
        /** Byte 0 gets a reserved opcode, 0x3-0x7 or 0xB-0xF. */
        RESERVED_OPCODE,
        /** A control frame's byte 0 loses FIN. */
        FRAGMENTED_CONTROL,
        /** Byte 1's mask bit is flipped. */
        MASK_BIT,
        /** A control frame's 7-bit length becomes 126 or 127. */
        CONTROL_TOO_LONG,
        /** The first of a 64-bit length's bytes gets its most significant bit. */
        LENGTH_64_MSB,
        /** The close frame, which has a status, gets a length of 1. */
        CLOSE_OF_ONE_BYTE
    }

    private void corruptedCase(long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        boolean masked = random.nextBoolean();
        stream.generate(random, masked);
        Corruption corruption;
        int target;
        do {
            corruption = Corruption.values()[random.nextInt(Corruption.values().length)];
            target = random.nextInt(stream.closeFrame + 1);
        } while (!applicable(corruption, target));

        int start = stream.frameStart[target];
        int opcode = stream.opcode[target];
        String error;
        int errorEnd;
        switch (corruption) {
            case RESERVED_OPCODE -> {
                int reserved = random.nextBoolean() ? 3 + random.nextInt(5) : 0xB + random.nextInt(5);
                stream.bytes[start] = (byte) (stream.bytes[start] & 0xF0 | reserved);
                error = "reserved opcode 0x" + Integer.toHexString(reserved);
                errorEnd = start + 1;
            }
            case FRAGMENTED_CONTROL -> {
                stream.bytes[start] &= 0x7F;
                error = "fragmented control frame, opcode 0x" + Integer.toHexString(opcode);
                errorEnd = start + 1;
            }
            case MASK_BIT -> {
                stream.bytes[start + 1] ^= (byte) 0x80;
                error = masked ? "unmasked frame, a mask was expected" : "masked frame, no mask was expected";
                errorEnd = start + 2;
            }
            case CONTROL_TOO_LONG -> {
                stream.bytes[start + 1] = (byte) (stream.bytes[start + 1] & 0x80 | 126 + random.nextInt(2));
                error = "control frame with more than 125 payload bytes, opcode 0x" + Integer.toHexString(opcode);
                errorEnd = start + 2;
            }
            case LENGTH_64_MSB -> {
                stream.bytes[start + 2] |= (byte) (0x80 | random.nextInt(0x80));
                error = "64-bit payload length with the most significant bit set";
                errorEnd = start + 3;
            }
            case CLOSE_OF_ONE_BYTE -> {
                stream.bytes[start + 1] = (byte) (stream.bytes[start + 1] & 0x80 | 1);
                error = "close payload of 1 byte";
                errorEnd = start + (masked ? 6 : 2) + 1;
            }
            default -> throw new AssertionError(corruption);
        }
        String what = corruption + " of frame " + target + " of " + (stream.closeFrame + 1) + ", masked " + masked;

        FrameScanner scanner = new FrameScanner(masked);
        ByteBuffer chunk = random.nextInt(4) == 0 ? directChunk : heapChunk;
        int frame = 0;
        int offset = 0;
        boolean failed = false;
        while (offset < stream.length) {
            int length = chunkLength(random, stream.length - offset);
            int at = random.nextInt(MAX_CHUNK_OFFSET);
            chunk.clear().put(at, stream.bytes, offset, length).limit(at + length);
            int end = at + length;
            int index = at;
            while (index < end) {
                int next = scanner.scan(chunk, index, end);
                if (failed) {
                    expectEquals(index, next, what + ": nothing is consumed after the error");
                    break;
                }
                if (scanner.error() != null) {
                    expect(error.equals(scanner.error()), what + ": error " + quoted(error), quoted(scanner.error()));
                    expectEquals(errorEnd, offset + next - at, what + ": the error stops the scan past its byte");
                    expect(!scanner.frameComplete() && !scanner.atFrameStart(), what + ": inside the frame", frame);
                    failed = true;
                    index = next;
                    continue;
                }
                if (scanner.frameComplete()) {
                    expect(frame < target, what + ": frame " + frame + " completes before the corrupted one",
                            offset + next - at);
                    expectEquals(stream.frameEnd[frame], offset + next - at, what + ": end of frame " + frame);
                    frame++;
                } else {
                    expectEquals(end, next, what + ": a frame that does not complete consumes the whole chunk");
                }
                index = next;
            }
            offset += length;
        }
        expect(failed, what + ": the error was found", frame);
        expect(error.equals(scanner.error()), what + ": the error stays", quoted(scanner.error()));
        chunk.clear();
        expectEquals(7, scanner.scan(chunk, 7, 9), what + ": a later call consumes nothing");
        boolean noCloseReason;
        try {
            scanner.closeReason();
            noCloseReason = false;
        } catch (IllegalStateException expected) {
            noCloseReason = true;
        }
        expect(noCloseReason, what + ": no close reason", "one");
    }

    private boolean applicable(Corruption corruption, int frame) {
        boolean control = (stream.opcode[frame] & WebSocketProtocol.OPCODE_FLAG_CONTROL) != 0;
        return switch (corruption) {
            case RESERVED_OPCODE, MASK_BIT -> true;
            case FRAGMENTED_CONTROL, CONTROL_TOO_LONG -> control;
            case LENGTH_64_MSB -> stream.headerLengthBytes[frame] == 8;
            case CLOSE_OF_ONE_BYTE -> frame == stream.closeFrame && stream.payloadLength[frame] >= 2;
        };
    }

    // ---------------------------------------------------------------------------------------- the streams

    /** Mostly short chunks, some of a TCP segment's size, a few large. */
    private static int chunkLength(SplittableRandom random, int left) {
        int bound = switch (random.nextInt(8)) {
            case 0, 1 -> 3;
            case 2, 3 -> 24;
            case 4, 5, 6 -> 1500;
            default -> LONGEST_CHUNK;
        };
        return Math.min(left, 1 + random.nextInt(bound));
    }

    private static String quoted(String text) {
        return text == null ? "null" : "\"" + text + "\"";
    }

    private static void expect(boolean holds, String what, Object actual) {
        if (!holds) {
            throw new AssertionError("expected " + what + ", got " + actual);
        }
    }

    private static void expectEquals(long expected, long actual, String what) {
        if (expected != actual) {
            throw new AssertionError("expected " + what + " to be " + expected + ", got " + actual);
        }
    }

    /** One random stream, in buffers reused from case to case. */
    private static final class Stream {
        private static final int MAX_FRAMES = MAX_FRAMES_BEFORE_CLOSE + 1;

        byte[] bytes = new byte[1 << 16];
        int length;

        final int[] frameStart = new int[MAX_FRAMES];
        final int[] frameEnd = new int[MAX_FRAMES];
        final int[] opcode = new int[MAX_FRAMES];
        final boolean[] fin = new boolean[MAX_FRAMES];
        final int[] payloadLength = new int[MAX_FRAMES];
        /** 0, 2 or 8: the bytes of the extended length. */
        final int[] headerLengthBytes = new int[MAX_FRAMES];
        int frames;
        int closeFrame;
        int closeCode;
        String closePhrase;
        int tailStart;

        private final byte[] closePayload = new byte[WebSocketProtocol.MAX_CONTROL_PAYLOAD];

        void generate(SplittableRandom random, boolean masked) {
            length = 0;
            frames = 0;
            int before = random.nextInt(MAX_FRAMES_BEFORE_CLOSE + 1);
            boolean inMessage = false;
            for (int i = 0; i < before; i++) {
                int kind = random.nextInt(inMessage ? 4 : 3);
                if (kind == 0) {
                    int controlOpcode = random.nextBoolean() ? WebSocketProtocol.OPCODE_PING : WebSocketProtocol.OPCODE_PONG;
                    appendFrame(random, masked, true, 0x80 | controlOpcode, controlLength(random), null, 0);
                } else if (inMessage) {
                    // A continuation, the last one (kind 3 or 2) or not.
                    boolean last = kind >= 2 && random.nextBoolean();
                    appendFrame(random, masked, true, (last ? 0x80 : 0) | WebSocketProtocol.OPCODE_CONTINUATION,
                            dataLength(random), null, 0);
                    inMessage = !last;
                } else {
                    // A message in one frame (kind 1) or the first frame of a fragmented one (kind 2); with
                    // RSV1 now and then, as permessage-deflate sets it.
                    int dataOpcode = random.nextBoolean() ? WebSocketProtocol.OPCODE_TEXT : WebSocketProtocol.OPCODE_BINARY;
                    int rsv = random.nextInt(10) == 0 ? 0x40 : 0;
                    appendFrame(random, masked, true, (kind == 1 ? 0x80 : 0) | rsv | dataOpcode, dataLength(random),
                            null, 0);
                    inMessage = kind == 2;
                }
            }
            // The peer's close frame, possibly in the middle of a fragmented message, as RFC 6455 allows.
            closeFrame = frames;
            int closeLength = closePayload(random);
            appendFrame(random, masked, true, 0x80 | WebSocketProtocol.OPCODE_CLOSE, closeLength, closePayload, 0);
            tailStart = length;
            appendTail(random);
        }

        /** A status a peer may send, and a reason of 0 to 123 UTF-8 bytes; now and then no status at all. */
        private int closePayload(SplittableRandom random) {
            if (random.nextInt(20) == 0) {
                closeCode = 1005;
                closePhrase = "";
                return 0;
            }
            closeCode = switch (random.nextInt(3)) {
                case 0 -> 1000 + random.nextInt(4);
                case 1 -> 1007 + random.nextInt(8);
                default -> 3000 + random.nextInt(2000);
            };
            closePayload[0] = (byte) (closeCode >>> 8);
            closePayload[1] = (byte) closeCode;
            int max = WebSocketProtocol.MAX_CLOSE_REASON_BYTES;
            int target = switch (random.nextInt(8)) {
                case 0 -> 0;
                case 1 -> max;
                default -> random.nextInt(max + 1);
            };
            int n = 2;
            while (n - 2 < target) {
                n = appendCodePoint(random, n, 2 + target - n);
            }
            closePhrase = new String(closePayload, 2, n - 2, StandardCharsets.UTF_8);
            return n;
        }

        /** Appends a random code point of at most {@code room} UTF-8 bytes; returns the new length. */
        private int appendCodePoint(SplittableRandom random, int at, int room) {
            int size = 1 + random.nextInt(Math.min(4, room));
            byte[] b = closePayload;
            switch (size) {
                case 1 -> b[at] = (byte) random.nextInt(0x80);
                case 2 -> {
                    int c = 0x80 + random.nextInt(0x800 - 0x80);
                    b[at] = (byte) (0xC0 | c >> 6);
                    b[at + 1] = (byte) (0x80 | c & 0x3F);
                }
                case 3 -> {
                    int c = 0x800 + random.nextInt(0x10000 - 0x800 - 0x800);
                    if (c >= 0xD800) {
                        c += 0x800; // past the surrogates
                    }
                    b[at] = (byte) (0xE0 | c >> 12);
                    b[at + 1] = (byte) (0x80 | c >> 6 & 0x3F);
                    b[at + 2] = (byte) (0x80 | c & 0x3F);
                }
                default -> {
                    int c = 0x10000 + random.nextInt(0x110000 - 0x10000);
                    b[at] = (byte) (0xF0 | c >> 18);
                    b[at + 1] = (byte) (0x80 | c >> 12 & 0x3F);
                    b[at + 2] = (byte) (0x80 | c >> 6 & 0x3F);
                    b[at + 3] = (byte) (0x80 | c & 0x3F);
                }
            }
            return at + size;
        }

        /** Raw bytes after the close frame: random, or frame headers and whole frames of either role. */
        private void appendTail(SplittableRandom random) {
            int target = random.nextInt(4) == 0 ? 0 : 1 + random.nextInt(random.nextInt(8) == 0 ? 400 : 40);
            int end = tailStart + target;
            ensure(end + 200);
            while (length < end) {
                switch (random.nextInt(4)) {
                    case 0 -> {
                        int n = 1 + random.nextInt(16);
                        System.arraycopy(POOL, random.nextInt(POOL.length - n), bytes, length, n);
                        length += n;
                    }
                    case 1 -> {
                        // A close frame's first bytes, or another frame header, masked or not.
                        int[] firsts = {0x88, 0x81, 0x82, 0x80, 0x01, 0x89, 0x8a};
                        bytes[length++] = (byte) firsts[random.nextInt(firsts.length)];
                        bytes[length++] = (byte) random.nextInt(256);
                    }
                    default -> appendFrame(random, random.nextBoolean(), false,
                            random.nextBoolean() ? 0x88 : 0x81, random.nextInt(40), null, 0);
                }
            }
            length = end;
        }

        private static int controlLength(SplittableRandom random) {
            return switch (random.nextInt(6)) {
                case 0 -> 0;
                case 1 -> WebSocketProtocol.MAX_CONTROL_PAYLOAD;
                default -> random.nextInt(WebSocketProtocol.MAX_CONTROL_PAYLOAD + 1);
            };
        }

        /** Mostly 7-bit lengths, some 16-bit ones, rarely a long one: every boundary now and then. */
        private static int dataLength(SplittableRandom random) {
            int r = random.nextInt(1000);
            if (r < 40) {
                int[] boundaries = {0, 1, 125, 126, 127, 255, 256, 0x7FFF, 0x8000, 0xFFFF, 0x10000, 0x10001};
                int pick = random.nextInt(boundaries.length);
                // The large boundaries a tenth as often as the small ones.
                return pick >= 7 && random.nextInt(10) != 0 ? boundaries[random.nextInt(7)] : boundaries[pick];
            }
            if (r < 700) {
                return random.nextInt(126);
            }
            if (r < 990) {
                return 126 + random.nextInt(1000);
            }
            if (r < 997) {
                return 126 + random.nextInt(0x10000 - 126);
            }
            return 0x10000 + random.nextInt(0x1000);
        }

        /**
         * Appends one frame: {@code b0}, the length in its shortest encoding (for data frames now and then in
         * a longer one, which RFC 6455 forbids but the scanner accepts), the masking key if {@code masked},
         * then the payload, from {@code payload} or else random, masked. Recorded as a frame if
         * {@code record}.
         */
        private void appendFrame(SplittableRandom random, boolean masked, boolean record, int b0, int payloadSize,
                                 byte[] payload, int payloadOffset) {
            ensure(length + WebSocketProtocol.MAX_HEADER_BYTES + payloadSize);
            int start = length;
            boolean control = (b0 & WebSocketProtocol.OPCODE_FLAG_CONTROL) != 0;
            int lengthBytes = payloadSize <= WebSocketProtocol.MAX_CONTROL_PAYLOAD ? 0 : payloadSize <= 0xFFFF ? 2 : 8;
            if (!control && random.nextInt(20) == 0) {
                lengthBytes = lengthBytes == 0 && random.nextBoolean() ? 2 : 8;
            }
            int mask = masked ? WebSocketProtocol.B1_FLAG_MASK : 0;
            bytes[length++] = (byte) b0;
            switch (lengthBytes) {
                case 0 -> bytes[length++] = (byte) (mask | payloadSize);
                case 2 -> {
                    bytes[length++] = (byte) (mask | WebSocketProtocol.PAYLOAD_LENGTH_16);
                    bytes[length++] = (byte) (payloadSize >>> 8);
                    bytes[length++] = (byte) payloadSize;
                }
                default -> {
                    bytes[length++] = (byte) (mask | WebSocketProtocol.PAYLOAD_LENGTH_64);
                    for (int shift = 56; shift >= 0; shift -= 8) {
                        bytes[length++] = (byte) ((long) payloadSize >>> shift);
                    }
                }
            }
            int key = random.nextInt();
            if (masked) {
                for (int shift = 24; shift >= 0; shift -= 8) {
                    bytes[length++] = (byte) (key >>> shift);
                }
            }
            if (payload != null) {
                System.arraycopy(payload, payloadOffset, bytes, length, payloadSize);
            } else {
                System.arraycopy(POOL, random.nextInt(POOL.length - payloadSize + 1), bytes, length, payloadSize);
            }
            if (masked) {
                for (int i = 0; i < payloadSize; i++) {
                    bytes[length + i] ^= (byte) (key >>> 8 * (3 - (i & 3)));
                }
            }
            length += payloadSize;
            if (record) {
                frameStart[frames] = start;
                frameEnd[frames] = length;
                opcode[frames] = b0 & WebSocketProtocol.B0_MASK_OPCODE;
                fin[frames] = (b0 & WebSocketProtocol.B0_FLAG_FIN) != 0;
                payloadLength[frames] = payloadSize;
                headerLengthBytes[frames] = lengthBytes;
                frames++;
            }
        }

        private void ensure(int capacity) {
            if (capacity > bytes.length) {
                bytes = Arrays.copyOf(bytes, Math.max(capacity, 2 * bytes.length));
            }
        }
    }
}

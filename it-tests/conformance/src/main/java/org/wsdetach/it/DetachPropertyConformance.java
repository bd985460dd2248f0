package org.wsdetach.it;

import jakarta.websocket.CloseReason;
import jakarta.websocket.OnClose;
import jakarta.websocket.OnMessage;
import jakarta.websocket.server.ServerEndpoint;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.wsdetach.DetachHandler;
import org.wsdetach.DetachOnPeerClose;
import org.wsdetach.DetachedConnection;

import javax.net.ssl.SSLSocketFactory;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The hand-over as a property, over real sockets: a peer sends random data frames (text, binary, fragmented,
 * with pings and pongs between them, lengths in all three encodings, masked with random keys), its close frame
 * (a random status and reason, or none), and a random raw tail, all cut into random writes; the container answers
 * every ping, replies to the close with its status, runs {@code @OnClose} once with it, and the handler's
 * connection yields exactly the tail, then the end of the stream. Each case is made from its own seed, which a
 * failure names: {@code -Dwsdetach.seed=N} runs that case alone (over {@code ws} and {@code wss}). One subclass per
 * container.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public abstract class DetachPropertyConformance {

    static final long BASE_SEED = 0x5eed_da7aL;
    /**
     * Cases over {@code ws}, then over {@code wss}; a second line of the same container (Tomcat 10.1, Jetty ee11)
     * sets fewer with the system property {@code wsdetach.property.cases}.
     */
    static final int PLAIN_CASES = Integer.getInteger("wsdetach.property.cases", 1000);
    static final int TLS_CASES = PLAIN_CASES / 5;

    static final BlockingQueue<DetachedConnection> handed = new LinkedBlockingQueue<>();
    static final BlockingQueue<CloseReason> closes = new LinkedBlockingQueue<>();

    private ServerFixture.RunningServer plain;
    private ServerFixture.RunningServer secure;

    protected abstract ServerFixture fixture();

    @BeforeAll
    void startServers() throws Exception {
        plain = fixture().start(PropertyEndpoint.class);
        secure = fixture().startSecure(TestKey.server(), PropertyEndpoint.class);
    }

    @AfterAll
    void stopServers() {
        try {
            if (plain != null) {
                plain.close();
            }
        } finally {
            if (secure != null) {
                secure.close();
            }
        }
    }

    @Test
    void theHandlerReceivesExactlyTheTailBehindTheCloseFrame() throws Exception {
        runCases(plain, null, BASE_SEED, PLAIN_CASES);
    }

    @Test
    void theHandlerReceivesExactlyTheTailBehindTheCloseFrameOverTls() throws Exception {
        runCases(secure, TestKey.client().getSocketFactory(), BASE_SEED + 1_000_000, TLS_CASES);
    }

    private static void runCases(ServerFixture.RunningServer server, SSLSocketFactory tls, long firstSeed, int cases)
            throws Exception {
        String replay = System.getProperty("wsdetach.seed");
        if (replay != null) {
            runCase(server, tls, Long.parseLong(replay));
            return;
        }
        for (int i = 0; i < cases; i++) {
            runCase(server, tls, firstSeed + i);
        }
    }

    private static void runCase(ServerFixture.RunningServer server, SSLSocketFactory tls, long seed)
            throws Exception {
        Case sent = Case.generate(seed);
        handed.clear();
        closes.clear();
        try (SocketPeer peer = RawPeer.connect(server.uri("/property"), tls)) {
            int at = 0;
            for (int cut : sent.cuts) {
                peer.write(java.util.Arrays.copyOfRange(sent.stream, at, cut));
                at = cut;
            }
            for (byte[] ping : sent.pings) {
                assertThat(peer.readFrameHex()).isEqualTo("8a" + String.format("%02x", ping.length) + hex(ping));
            }
            assertThat(peer.readFrameHex()).isEqualTo(sent.status < 0 ? "8800" : String.format("8802%04x", sent.status));
            DetachedConnection connection = handed.poll(10, TimeUnit.SECONDS);
            assertThat(connection).as("handed over").isNotNull();
            try {
                assertThat(closes.poll(10, TimeUnit.SECONDS)).as("@OnClose ran").isNotNull()
                        .extracting(reason -> reason.getCloseCode().getCode())
                        .isEqualTo(sent.status < 0 ? CloseReason.CloseCodes.NO_STATUS_CODE.getCode() : sent.status);
                CloseReason peerClose = connection.peerCloseReason();
                assertThat(peerClose.getCloseCode().getCode())
                        .isEqualTo(sent.status < 0 ? CloseReason.CloseCodes.NO_STATUS_CODE.getCode() : sent.status);
                assertThat(peerClose.getReasonPhrase()).isEqualTo(sent.reason);
                assertThat(hex(ConformanceBase.read(connection, sent.tail.length))).isEqualTo(hex(sent.tail));
                peer.shutdownOutput();
                assertThat(connection.read(ByteBuffer.allocate(1)).get(10, TimeUnit.SECONDS))
                        .as("the end of the stream right after the tail").isEqualTo(-1);
            } finally {
                connection.close();
            }
            assertThat(peer.readUntilClosed()).isEmpty();
            assertThat(closes).as("@OnClose once").isEmpty();
        } catch (Exception | AssertionError e) {
            throw new AssertionError("case of seed " + seed + " (replay: -Dwsdetach.seed=" + seed + "): " + sent, e);
        }
    }

    private static String hex(byte[] bytes) {
        return HexFormat.of().formatHex(bytes);
    }

    /** What a peer sends in one case: its frames, close frame and tail, and where it cuts them into writes. */
    static final class Case {
        private static final int[] STATUSES = {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013};
        private static final String REASON_CHARACTERS = "abc XYZ 019 é € ✓";

        final byte[] stream;
        /** The end of each write, the last one {@code stream.length}. */
        final int[] cuts;
        final List<byte[]> pings = new ArrayList<>();
        /** The close status, or -1 for a close frame without one. */
        final int status;
        final String reason;
        final byte[] tail;
        private final StringBuilder description = new StringBuilder();

        private Case(Random random) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            int messages = random.nextInt(5);
            for (int m = 0; m < messages; m++) {
                int opcode = random.nextBoolean() ? 0x1 : 0x2;
                int fragments = random.nextInt(3) == 0 ? 2 + random.nextInt(3) : 1;
                for (int f = 0; f < fragments; f++) {
                    frame(out, random, f == fragments - 1, f == 0 ? opcode : 0x0, payload(random, opcode == 0x1));
                    if (random.nextInt(4) == 0) {
                        byte[] control = new byte[random.nextInt(126)];
                        random.nextBytes(control);
                        boolean ping = random.nextBoolean();
                        if (ping) {
                            pings.add(control);
                        }
                        frame(out, random, true, ping ? 0x9 : 0xA, control);
                    }
                }
            }
            if (random.nextInt(10) == 0) {
                status = -1;
                reason = "";
            } else {
                status = random.nextInt(4) == 0 ? 3000 + random.nextInt(2000) : STATUSES[random.nextInt(STATUSES.length)];
                reason = reason(random);
            }
            byte[] reasonBytes = reason.getBytes(StandardCharsets.UTF_8);
            byte[] close = status < 0 ? new byte[0] : new byte[2 + reasonBytes.length];
            if (status >= 0) {
                close[0] = (byte) (status >> 8);
                close[1] = (byte) status;
                System.arraycopy(reasonBytes, 0, close, 2, reasonBytes.length);
            }
            frame(out, random, true, 0x8, close);
            tail = tail(random, close);
            out.writeBytes(tail);
            stream = out.toByteArray();
            cuts = cuts(random, stream.length);
            description.append("close ").append(status).append(" \"").append(reason).append("\", tail of ")
                    .append(tail.length).append(" bytes, ").append(cuts.length).append(" writes");
        }

        static Case generate(long seed) {
            return new Case(new Random(seed));
        }

        /** Lengths in all three encodings, their boundaries included, mostly short. */
        private static byte[] payload(Random random, boolean text) {
            int length = switch (random.nextInt(20)) {
                case 0 -> new int[] {0, 125, 126, 127, 0x7fff, 0x8000, 0xffff, 0x10000}[random.nextInt(8)];
                case 1 -> 0x10000 + random.nextInt(5000);
                case 2, 3, 4, 5, 6 -> 126 + random.nextInt(3000);
                default -> random.nextInt(126);
            };
            byte[] payload = new byte[length];
            if (text) {
                // ASCII, so that a message cut into fragments stays valid UTF-8 in each.
                for (int i = 0; i < length; i++) {
                    payload[i] = (byte) (' ' + random.nextInt(95));
                }
            } else {
                random.nextBytes(payload);
            }
            return payload;
        }

        /** Valid UTF-8 of at most 123 bytes, multi-byte characters included. */
        private static String reason(Random random) {
            StringBuilder reason = new StringBuilder();
            int target = random.nextInt(3) == 0 ? 123 : random.nextInt(40);
            while (true) {
                int codePoint = REASON_CHARACTERS.codePointAt(
                        REASON_CHARACTERS.offsetByCodePoints(0, random.nextInt(REASON_CHARACTERS.codePointCount(0,
                                REASON_CHARACTERS.length()))));
                String next = reason.toString() + Character.toString(codePoint);
                if (next.getBytes(StandardCharsets.UTF_8).length > target) {
                    return reason.toString();
                }
                reason.setLength(0);
                reason.append(next);
            }
        }

        /** Random bytes, sometimes empty, sometimes long, sometimes starting like another close frame. */
        private static byte[] tail(Random random, byte[] closePayload) {
            int length = switch (random.nextInt(10)) {
                case 0 -> 0;
                case 1 -> 1 + random.nextInt(20000);
                default -> 1 + random.nextInt(200);
            };
            byte[] tail = new byte[length];
            random.nextBytes(tail);
            if (length >= 2 && random.nextInt(4) == 0) {
                // Looks like a server's close frame: it is still just bytes of the tail.
                tail[0] = (byte) 0x88;
                tail[1] = (byte) Math.min(closePayload.length, 125);
            }
            return tail;
        }

        private static int[] cuts(Random random, int length) {
            int maxWrite = switch (random.nextInt(6)) {
                case 0 -> length <= 4000 ? 1 : 7;
                case 1 -> 7;
                case 2 -> 100;
                case 3 -> 1500;
                case 4 -> 65536;
                default -> Math.max(length, 1);
            };
            List<Integer> ends = new ArrayList<>();
            int at = 0;
            while (at < length) {
                at = Math.min(length, at + 1 + random.nextInt(maxWrite));
                ends.add(at);
            }
            return ends.stream().mapToInt(Integer::intValue).toArray();
        }

        /** A client's frame: masked with a random key, its length in the shortest encoding. */
        private static void frame(ByteArrayOutputStream out, Random random, boolean fin, int opcode, byte[] payload) {
            out.write((fin ? 0x80 : 0) | opcode);
            if (payload.length < 126) {
                out.write(0x80 | payload.length);
            } else if (payload.length <= 0xffff) {
                out.write(0x80 | 126);
                out.write(payload.length >> 8);
                out.write(payload.length);
            } else {
                out.write(0x80 | 127);
                for (int shift = 56; shift >= 0; shift -= 8) {
                    out.write((int) ((long) payload.length >> shift));
                }
            }
            byte[] key = new byte[4];
            random.nextBytes(key);
            out.writeBytes(key);
            for (int i = 0; i < payload.length; i++) {
                out.write(payload[i] ^ key[i & 3]);
            }
        }

        @Override
        public String toString() {
            return description.toString();
        }
    }

    /** Takes every message whole or in parts, and detaches on the peer's close frame. */
    @ServerEndpoint("/property")
    @DetachOnPeerClose(HandToSuite.class)
    public static class PropertyEndpoint {
        @OnMessage
        public void text(String part, boolean last) {
        }

        @OnMessage
        public void binary(ByteBuffer part, boolean last) {
        }

        @OnClose
        public void close(CloseReason reason) {
            closes.add(reason);
        }
    }

    public static class HandToSuite implements DetachHandler {
        @Override
        public void onDetached(DetachedConnection connection) {
            handed.add(connection);
        }
    }
}

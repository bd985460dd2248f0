package org.wsdetach.benchmarks.suite;

import org.wsdetach.benchmarks.suite.BenchServer.Container;

import javax.net.SocketFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * Every figure of one container. Each ratio compares two things measured in this run, alternating round by
 * round (the first of each pair first in even rounds, second in odd ones), after one untimed round of each;
 * the ratio is the median of the rounds' ratios, and the raw figures are the medians of each side.
 */
final class ContainerBench {

    private static final int ECHO_MESSAGE = 16;
    private static final int BULK_MESSAGE = 64 * 1024;
    private static final int RAW_ECHO = 1024;

    private final Container container;
    private final Size size;
    private final SSLContext serverTls;
    private final SocketFactory clientTls;
    private final Map<String, Object> results = new LinkedHashMap<>();

    ContainerBench(Container container, Size size, SSLContext serverTls, SSLContext clientTls) {
        this.container = container;
        this.size = size;
        this.serverTls = serverTls;
        this.clientTls = clientTls.getSocketFactory();
    }

    /** The parts of the suite, each a group of figures; {@link #run} runs those it is given. */
    enum Part { OVERHEAD, DETACHED, LATENCY, TLS, SCALE }

    Map<String, Object> run(java.util.Set<Part> parts) throws Exception {
        try (BenchServer with = BenchServer.start(container, true, null, Map.of());
             BenchServer without = BenchServer.start(container, false, null, Map.of())) {
            if (parts.contains(Part.OVERHEAD)) {
                ratio("adapter_overhead_echo_ratio", "echo_round_trips_per_s_with_adapter",
                        "echo_round_trips_per_s_without_adapter",
                        () -> echoThroughput(with), () -> echoThroughput(without));
                ratio("adapter_overhead_bulk_ratio", "bulk_mib_per_s_with_adapter", "bulk_mib_per_s_without_adapter",
                        () -> bulkMessages(with), () -> bulkMessages(without));
            }
            if (parts.contains(Part.DETACHED)) {
                try (PlainPeers.Sockets sink = PlainPeers.Sockets.start(false);
                     PlainPeers.Sockets echo = PlainPeers.Sockets.start(true)) {
                    ratio("detached_vs_socket_bulk_ratio", "detached_bulk_mib_per_s", "socket_bulk_mib_per_s",
                            () -> bulk(detach(SocketFactory.getDefault(), with, "detach-sink")),
                            () -> bulk(plain(sink)));
                    ratio("detached_vs_socket_echo_ratio", "detached_echo_round_trips_per_s",
                            "socket_echo_round_trips_per_s",
                            () -> rawEcho(detach(SocketFactory.getDefault(), with, "detach-echo")),
                            () -> rawEcho(plain(echo)));
                }
            }
            if (parts.contains(Part.LATENCY)) {
                latency(with);
            }
        }
        if (parts.contains(Part.TLS)) {
            tls();
        }
        if (parts.contains(Part.SCALE)) {
            scale();
        }
        return results;
    }

    private void tls() throws Exception {
        try (BenchServer secure = BenchServer.start(container, true, serverTls, Map.of());
             PlainPeers.TlsSink sink = PlainPeers.TlsSink.start(serverTls)) {
            String[] cipher = new String[2];
            ratio("detached_tls_vs_tls_socket_bulk_ratio", "detached_tls_bulk_mib_per_s", "tls_socket_bulk_mib_per_s",
                    () -> {
                        WsClient client = detach(clientTls, secure, "detach-sink");
                        SSLSocket socket = (SSLSocket) client.socket();
                        cipher[0] = socket.getSession().getProtocol();
                        cipher[1] = socket.getSession().getCipherSuite();
                        return bulk(new Raw(socket, client.in(), client.out()));
                    },
                    () -> bulk(tlsPlain(sink, cipher)));
            results.put("tls_protocol", cipher[0]);
            results.put("tls_cipher_suite", cipher[1]);
        }
    }

    // ---- alternation

    private interface Measurement extends Callable<Double> {
    }

    private void ratio(String ratioKey, String firstKey, String secondKey, Measurement first, Measurement second)
            throws Exception {
        first.call();
        second.call();
        double[] firsts = new double[size.rounds()];
        double[] seconds = new double[size.rounds()];
        double[] ratios = new double[size.rounds()];
        for (int round = 0; round < size.rounds(); round++) {
            if (round % 2 == 0) {
                firsts[round] = first.call();
                seconds[round] = second.call();
            } else {
                seconds[round] = second.call();
                firsts[round] = first.call();
            }
            ratios[round] = firsts[round] / seconds[round];
        }
        results.put(ratioKey, Stats.median(ratios));
        results.put(firstKey, Stats.median(firsts));
        results.put(secondKey, Stats.median(seconds));
        results.put(ratioKey.replace("_ratio", "_ratio_min"), Stats.percentile(ratios, 0));
        results.put(ratioKey.replace("_ratio", "_ratio_max"), Stats.percentile(ratios, 100));
    }

    // ---- 1. through the container, with and without the adapter

    /** Round trips per second of 16-byte text messages over {@link Size#echoConnections()} sessions. */
    private double echoThroughput(BenchServer server) throws Exception {
        int connections = size.echoConnections();
        List<WsClient> clients = new ArrayList<>();
        ExecutorService threads = Executors.newFixedThreadPool(connections);
        try {
            for (int i = 0; i < connections; i++) {
                clients.add(WsClient.open(SocketFactory.getDefault(), server.port()));
            }
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(size.roundMillis());
            long start = System.nanoTime();
            List<Future<Long>> counts = new ArrayList<>();
            for (WsClient client : clients) {
                counts.add(threads.submit(() -> {
                    byte[] message = "0123456789abcdef".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
                    long trips = 0;
                    while (System.nanoTime() < deadline) {
                        client.send(WsClient.TEXT, message, ECHO_MESSAGE);
                        client.expect(WsClient.TEXT);
                        trips++;
                    }
                    return trips;
                }));
            }
            long total = 0;
            for (Future<Long> count : counts) {
                total += count.get();
            }
            return total / ((System.nanoTime() - start) / 1e9);
        } finally {
            threads.shutdownNow();
            for (WsClient client : clients) {
                client.close();
            }
        }
    }

    /** MiB per second of 64 KiB binary messages, each echoed before the next is sent. */
    private double bulkMessages(BenchServer server) throws IOException {
        try (WsClient client = WsClient.open(SocketFactory.getDefault(), server.port())) {
            byte[] message = new byte[BULK_MESSAGE];
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(size.roundMillis());
            long start = System.nanoTime();
            long messages = 0;
            while (System.nanoTime() < deadline) {
                client.send(WsClient.BINARY, message, BULK_MESSAGE);
                client.expect(WsClient.BINARY);
                if (client.payloadLength() != BULK_MESSAGE) {
                    throw new IOException("echoed " + client.payloadLength() + " bytes of " + BULK_MESSAGE);
                }
                messages++;
            }
            return mib(messages * BULK_MESSAGE, System.nanoTime() - start);
        }
    }

    // ---- 2. over a detached connection, and over plain sockets

    /** A connection's raw streams, whatever carries them. */
    private record Raw(Socket socket, InputStream in, OutputStream out) implements AutoCloseable {
        @Override
        public void close() throws IOException {
            socket.close();
        }
    }

    /** A session detached by the server on {@code command}, the client answering its close frame. */
    private WsClient detach(SocketFactory sockets, BenchServer server, String command) throws IOException {
        WsClient client = WsClient.open(sockets, server.port());
        client.sendText(command);
        client.expect(WsClient.CLOSE);
        client.sendClose();
        return client;
    }

    private Raw detach(WsClient client) {
        return new Raw(client.socket(), client.in(), client.out());
    }

    private double bulk(WsClient detached) throws IOException {
        return bulk(detach(detached));
    }

    private double rawEcho(WsClient detached) throws IOException {
        return rawEcho(detach(detached));
    }

    private static Raw plain(PlainPeers.Listener peer) throws IOException {
        Socket socket = new Socket();
        socket.setTcpNoDelay(true);
        socket.setSoTimeout(30_000);
        socket.connect(new InetSocketAddress(BenchServer.HOST, peer.port()));
        return new Raw(socket, socket.getInputStream(), socket.getOutputStream());
    }

    private Raw tlsPlain(PlainPeers.TlsSink peer, String[] cipher) throws IOException {
        SSLSocket socket = (SSLSocket) clientTls.createSocket();
        socket.setTcpNoDelay(true);
        socket.setSoTimeout(30_000);
        socket.setEnabledProtocols(new String[]{cipher[0]});
        socket.setEnabledCipherSuites(new String[]{cipher[1]});
        socket.connect(new InetSocketAddress(BenchServer.HOST, peer.port()));
        socket.startHandshake();
        return new Raw(socket, socket.getInputStream(), socket.getOutputStream());
    }

    /** MiB per second of {@link Size#bulkBytes()} one way, in 64 KiB writes, until the sink's count is back. */
    private double bulk(Raw raw) throws IOException {
        try (raw) {
            byte[] block = new byte[RawHandlers.BULK_BUFFER];
            long total = size.bulkBytes();
            long start = System.nanoTime();
            java.nio.ByteBuffer.wrap(block).putLong(total);
            raw.out().write(block, 0, Long.BYTES);
            for (long sent = 0; sent < total; sent += block.length) {
                raw.out().write(block, 0, (int) Math.min(block.length, total - sent));
            }
            raw.out().flush();
            long counted = new DataInputStream(raw.in()).readLong();
            long elapsed = System.nanoTime() - start;
            if (counted != total) {
                throw new IOException("the sink counted " + counted + " bytes of " + total);
            }
            return mib(total, elapsed);
        }
    }

    /** Round trips per second of 1 KiB raw. */
    private double rawEcho(Raw raw) throws IOException {
        try (raw) {
            byte[] block = new byte[RAW_ECHO];
            byte[] echo = new byte[RAW_ECHO];
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(size.roundMillis());
            long start = System.nanoTime();
            long trips = 0;
            DataInputStream in = new DataInputStream(raw.in());
            while (System.nanoTime() < deadline) {
                raw.out().write(block);
                in.readFully(echo);
                trips++;
            }
            return trips / ((System.nanoTime() - start) / 1e9);
        }
    }

    // ---- 3. detach latency against a ping's round trip

    private void latency(BenchServer server) throws IOException {
        int untimed = Math.max(1, size.latencySamples() / 5);
        Latencies.pings.take();
        Latencies.detaches.take();
        for (int i = 0; i < untimed + size.latencySamples(); i++) {
            try (WsClient client = WsClient.open(SocketFactory.getDefault(), server.port())) {
                client.sendText("ping-latency");
                client.expect(WsClient.PING);
                client.sendEmptyPong();
                client.sendText("detach-latency");
                client.expect(WsClient.CLOSE);
                client.sendClose();
                client.awaitEnd();
            }
        }
        long[] pings = Latencies.pings.take();
        long[] detaches = Latencies.detaches.take();
        if (pings.length != untimed + size.latencySamples() || detaches.length != pings.length) {
            throw new IllegalStateException("samples missing: " + pings.length + " pings, " + detaches.length
                    + " detaches of " + (untimed + size.latencySamples()));
        }
        double[] rtt = Stats.micros(java.util.Arrays.copyOfRange(pings, untimed, pings.length));
        double[] detach = Stats.micros(java.util.Arrays.copyOfRange(detaches, untimed, detaches.length));
        double rttMedian = Stats.median(rtt);
        results.put("detach_latency_p50_rtt", Stats.median(detach) / rttMedian);
        results.put("detach_latency_p99_rtt", Stats.percentile(detach, 99) / rttMedian);
        results.put("detach_latency_p50_us", Stats.median(detach));
        results.put("detach_latency_p99_us", Stats.percentile(detach, 99));
        results.put("ping_rtt_p50_us", rttMedian);
        results.put("ping_rtt_p99_us", Stats.percentile(rtt, 99));
        results.put("latency_samples", size.latencySamples());
    }

    // ---- 4. scale

    private void scale() throws Exception {
        // Tomcat's NIO connector takes 8192 connections by default; the other two have no limit.
        try (BenchServer server = BenchServer.start(container, true, null, Map.of("maxConnections", "-1"))) {
            results.putAll(new ScaleRun(server, size.scaleSessions()).run());
        }
    }

    private static double mib(long bytes, long nanos) {
        return bytes / (1024.0 * 1024.0) / (nanos / 1e9);
    }
}

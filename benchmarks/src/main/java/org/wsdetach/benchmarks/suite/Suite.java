package org.wsdetach.benchmarks.suite;

import org.wsdetach.benchmarks.suite.BenchServer.Container;
import org.wsdetach.demo.DemoTls;

import javax.net.ssl.SSLContext;
import java.lang.management.ManagementFactory;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The benchmark suite: every figure of {@link ContainerBench} on Tyrus, Tomcat and Jetty, written as JSON to
 * {@code bench-results.json} next to the suite's jar or classes (so {@code benchmarks/target/}) and printed as a
 * Markdown table.
 *
 * <p>Usage: {@code Suite [--tiny] [--containers tyrus,tomcat,jetty] [--only overhead,detached,latency,tls,scale]
 * [--out FILE]}; {@code --tiny} measures each figure once, briefly (the build's run); {@code --only} runs some
 * parts alone, for example the latency while profiling it.
 */
public final class Suite {

    /** Each figure of the table: its key, what it is, its target. */
    private record Row(String key, String label, String target) {
    }

    private static final List<Row> ROWS = List.of(
            new Row("adapter_overhead_echo_ratio", "16 B text echo, with / without adapter", ">= 0.98"),
            new Row("adapter_overhead_bulk_ratio", "64 KiB binary echo, with / without adapter", ">= 0.98"),
            new Row("detached_vs_socket_bulk_ratio", "one-way bulk, detached / SocketChannel", ">= 0.95"),
            new Row("detached_vs_socket_echo_ratio", "1 KiB raw echo, detached / SocketChannel", ">= 0.95"),
            new Row("detached_tls_vs_tls_socket_bulk_ratio", "one-way bulk, detached TLS / SSLSocket", ">= 0.9"),
            new Row("detach_latency_p50_rtt", "detach latency median, in ping RTTs", "<= 1.2"),
            new Row("detach_latency_p99_rtt", "detach latency p99, in median ping RTTs", ""),
            new Row("scale_sessions_ok", "sessions detached and echoed at once", "all"),
            new Row("scale_seconds", "seconds for all of them", "<= 5"),
            new Row("scale_heap_bytes_per_connection", "retained heap per idle detached connection (B)", "<= 8192"),
            new Row("scale_threads", "server threads with all of them idle", "no thread per connection"),
            new Row("echo_round_trips_per_s_with_adapter", "raw: echo round trips/s with adapter", ""),
            new Row("echo_round_trips_per_s_without_adapter", "raw: echo round trips/s without", ""),
            new Row("bulk_mib_per_s_with_adapter", "raw: 64 KiB messages MiB/s with adapter", ""),
            new Row("bulk_mib_per_s_without_adapter", "raw: 64 KiB messages MiB/s without", ""),
            new Row("detached_bulk_mib_per_s", "raw: detached bulk MiB/s", ""),
            new Row("socket_bulk_mib_per_s", "raw: SocketChannel bulk MiB/s", ""),
            new Row("detached_echo_round_trips_per_s", "raw: detached 1 KiB echo round trips/s", ""),
            new Row("socket_echo_round_trips_per_s", "raw: SocketChannel 1 KiB echo round trips/s", ""),
            new Row("detached_tls_bulk_mib_per_s", "raw: detached TLS bulk MiB/s", ""),
            new Row("tls_socket_bulk_mib_per_s", "raw: SSLSocket bulk MiB/s", ""),
            new Row("detach_latency_p50_us", "raw: detach latency median (µs)", ""),
            new Row("detach_latency_p99_us", "raw: detach latency p99 (µs)", ""),
            new Row("ping_rtt_p50_us", "raw: ping RTT median (µs)", ""));

    private Suite() {
    }

    public static void main(String[] args) throws Exception {
        Size size = Size.FULL;
        List<Container> containers = List.of(Container.values());
        Path out = null;
        Set<ContainerBench.Part> parts = EnumSet.allOf(ContainerBench.Part.class);
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--tiny" -> size = Size.TINY;
                case "--containers" -> containers = parseContainers(args[++i]);
                case "--out" -> out = Path.of(args[++i]);
                case "--only" -> parts = parseParts(args[++i]);
                default -> throw new IllegalArgumentException("unknown argument: " + args[i] + " (usage: Suite"
                        + " [--tiny] [--containers tyrus,tomcat,jetty] [--only overhead,detached,latency,tls,scale]"
                        + " [--out FILE])");
            }
        }
        Path file = out == null ? defaultOutput() : out;
        long start = System.nanoTime();
        Map<String, Object> results = run(size, containers, parts);
        Files.createDirectories(file.toAbsolutePath().getParent());
        Files.writeString(file, Json.write(results), StandardCharsets.UTF_8);
        System.out.println(table(results));
        System.out.printf(Locale.ROOT, "%nWritten to %s in %.0f s%n", file, (System.nanoTime() - start) / 1e9);
    }

    /** Runs the suite on {@code containers}. @return the results, as the JSON file has them */
    static Map<String, Object> run(Size size, List<Container> containers) throws Exception {
        return run(size, containers, EnumSet.allOf(ContainerBench.Part.class));
    }

    /** Runs {@code parts} of the suite on {@code containers}. */
    static Map<String, Object> run(Size size, List<Container> containers, Set<ContainerBench.Part> parts)
            throws Exception {
        quietContainers();
        Path directory = Files.createTempDirectory("wsdetach-bench");
        Path certificate = directory.resolve("bench.crt");
        SSLContext serverTls;
        SSLContext clientTls;
        try {
            serverTls = DemoTls.selfSigned(certificate);
            clientTls = DemoTls.trusting(certificate);
        } finally {
            Files.deleteIfExists(certificate);
            Files.delete(directory);
        }
        Map<String, Object> results = new LinkedHashMap<>();
        results.put("jvm", System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version"));
        results.put("cores", Runtime.getRuntime().availableProcessors());
        results.put("os", System.getProperty("os.name") + " " + System.getProperty("os.arch"));
        results.put("load_average_at_start", ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
        results.put("size", size.equals(Size.TINY) ? "tiny" : "full");
        Map<String, Object> byContainer = new LinkedHashMap<>();
        for (Container container : containers) {
            long started = System.nanoTime();
            System.err.println("wsdetach bench: " + container.label() + "...");
            Map<String, Object> figures = new ContainerBench(container, size, serverTls, clientTls).run(parts);
            figures.put("seconds_taken", (System.nanoTime() - started) / 1e9);
            byContainer.put(container.label(), figures);
        }
        results.put("containers", byContainer);
        results.put("load_average_at_end", ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
        return results;
    }

    /**
     * Leaves the containers' logs to warnings: Tyrus' and Tomcat's (java.util.logging) otherwise log each start and
     * stop, and Jetty's (its SLF4J binding) too. Kept in a field: the logging framework holds its loggers weakly.
     */
    private static void quietContainers() {
        QUIET.setLevel(java.util.logging.Level.WARNING);
        // It warns at each stop that it cannot look for leaks without --add-opens.
        LEAK_CHECK.setLevel(java.util.logging.Level.SEVERE);
        System.setProperty("org.eclipse.jetty.LEVEL", "WARN");
    }

    private static final java.util.logging.Logger QUIET = java.util.logging.Logger.getLogger("");
    private static final java.util.logging.Logger LEAK_CHECK =
            java.util.logging.Logger.getLogger("org.apache.catalina.loader.WebappClassLoaderBase");

    private static Set<ContainerBench.Part> parseParts(String list) {
        Set<ContainerBench.Part> parts = EnumSet.noneOf(ContainerBench.Part.class);
        for (String name : list.split(",")) {
            parts.add(ContainerBench.Part.valueOf(name.trim().toUpperCase(Locale.ROOT)));
        }
        return parts;
    }

    private static List<Container> parseContainers(String list) {
        List<Container> containers = new ArrayList<>();
        for (String name : list.split(",")) {
            containers.add(Container.valueOf(name.trim().toUpperCase(Locale.ROOT)));
        }
        return containers;
    }

    /** {@code bench-results.json} in the directory holding the suite's jar or classes directory. */
    private static Path defaultOutput() throws URISyntaxException {
        Path code = Path.of(Suite.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        return code.getParent().resolve("bench-results.json");
    }

    /** The results as a Markdown table, a column per container. */
    @SuppressWarnings("unchecked")
    static String table(Map<String, Object> results) {
        Map<String, Map<String, Object>> containers = (Map<String, Map<String, Object>>) results.get("containers");
        StringBuilder table = new StringBuilder();
        table.append(String.format(Locale.ROOT, "%s, %s cores, load average %.1f at start, %.1f at end%n%n",
                results.get("jvm"), results.get("cores"), (Double) results.get("load_average_at_start"),
                (Double) results.get("load_average_at_end")));
        table.append("| figure | target |");
        containers.keySet().forEach(name -> table.append(' ').append(name).append(" |"));
        table.append("\n| --- | --- |");
        containers.keySet().forEach(name -> table.append(" --- |"));
        table.append('\n');
        for (Row row : ROWS) {
            table.append("| ").append(row.label()).append(" (`").append(row.key()).append("`) | ")
                    .append(row.target()).append(" |");
            for (Map<String, Object> figures : containers.values()) {
                table.append(' ').append(format(figures.get(row.key()))).append(" |");
            }
            table.append('\n');
        }
        return table.toString();
    }

    private static String format(Object value) {
        if (value instanceof Double d) {
            double magnitude = Math.abs(d);
            return String.format(Locale.ROOT, magnitude >= 100 ? "%.0f" : magnitude >= 10 ? "%.1f" : "%.3f", d);
        }
        return String.valueOf(value);
    }
}

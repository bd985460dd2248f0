package org.wsdetach.benchmarks.suite;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The scale figures of one server: {@link ScaleClient} in a JVM of its own detaches {@code sessions} sessions at
 * once and echoes 1 KiB over each; with all of them idle and detached, this JVM (the server's) counts its
 * threads and the bytes of its live objects (a class histogram), which it compares with its heap before the run (and, as a raw
 * figure, once the client has closed them all): the difference per connection is what an idle detached
 * connection retains.
 */
final class ScaleRun {

    private final BenchServer server;
    private final int sessions;

    ScaleRun(BenchServer server, int sessions) {
        this.server = server;
        this.sessions = sessions;
    }

    Map<String, Object> run() throws Exception {
        int threadsBefore = ManagementFactory.getThreadMXBean().getThreadCount();
        int openBefore = RawHandlers.open.get();
        long heapBefore = liveBytes("before the run");
        Process client = new ProcessBuilder(List.of(java(), "-Xss256k", "-cp", System.getProperty("java.class.path"),
                ScaleClient.class.getName(), Integer.toString(server.port()), Integer.toString(sessions), "256"))
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        try (BufferedReader lines = new BufferedReader(new InputStreamReader(client.getInputStream(),
                StandardCharsets.US_ASCII));
             Writer commands = new OutputStreamWriter(client.getOutputStream(), StandardCharsets.US_ASCII)) {
            String upgraded = expect(lines, "UPGRADED");
            String[] echoed = expect(lines, "ECHOED").split(" ");
            int ok = Integer.parseInt(echoed[1]);
            double seconds = Double.parseDouble(echoed[3]);
            awaitOpen(openBefore + ok);
            int threadsIdle = ManagementFactory.getThreadMXBean().getThreadCount();
            long heapIdle = liveBytes("with every connection idle");
            commands.write("close\n");
            commands.flush();
            expect(lines, "CLOSED");
            awaitOpen(openBefore);
            long heapClosed = liveBytes("once every connection has closed");
            if (!client.waitFor(30, TimeUnit.SECONDS)) {
                throw new IOException("the scale client did not exit");
            }
            Map<String, Object> figures = new LinkedHashMap<>();
            figures.put("scale_sessions_ok", ok);
            figures.put("scale_seconds", seconds);
            // Against the heap before the run: whatever the idle connections made the server keep counts, the
            // pools and caches they grew included. Against the heap after they closed: what each holds alone.
            figures.put("scale_heap_bytes_per_connection", ok == 0 ? 0.0 : (double) (heapIdle - heapBefore) / ok);
            figures.put("scale_heap_bytes_per_connection_vs_closed",
                    ok == 0 ? 0.0 : (double) (heapIdle - heapClosed) / ok);
            figures.put("scale_threads", threadsIdle);
            figures.put("scale_sessions", sessions);
            figures.put("scale_sessions_upgraded", Integer.parseInt(upgraded.split(" ")[1]));
            figures.put("scale_threads_before", threadsBefore);
            figures.put("scale_heap_bytes_before", heapBefore);
            figures.put("scale_heap_bytes_idle", heapIdle);
            figures.put("scale_heap_bytes_closed", heapClosed);
            return figures;
        } finally {
            client.destroy();
        }
    }

    /** Set to {@code true}, prints the top of the server's class histogram while the connections are idle and after. */
    static final String HISTOGRAM = "wsdetach.bench.histogram";

    /**
     * The bytes of the objects alive in this JVM, from the class histogram {@code jcmd} makes after a full
     * collection: the heap in use right after {@code System.gc()} still held, here, most of what 10,000 closed
     * Tomcat connections had used, which that histogram no longer finds.
     */
    private static long liveBytes(String when) throws IOException, InterruptedException {
        Process jcmd = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "jcmd").toString(),
                Long.toString(ProcessHandle.current().pid()), "GC.class_histogram").redirectErrorStream(true).start();
        List<String> lines = new String(jcmd.getInputStream().readAllBytes(), StandardCharsets.UTF_8).lines().toList();
        if (!jcmd.waitFor(60, TimeUnit.SECONDS) || jcmd.exitValue() != 0) {
            throw new IOException("jcmd failed: " + String.join("\n", lines));
        }
        if (Boolean.getBoolean(HISTOGRAM)) {
            System.err.println("class histogram " + when + ":");
            lines.stream().limit(40).forEach(System.err::println);
        }
        for (String line : lines) {
            String[] words = line.trim().split("\\s+");
            if (words.length == 3 && words[0].equals("Total")) {
                return Long.parseLong(words[2]);
            }
        }
        throw new IOException("no total in jcmd's class histogram: " + String.join("\n", lines));
    }

    private static String java() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    private static String expect(BufferedReader lines, String word) throws IOException {
        String line = lines.readLine();
        if (line == null || !line.startsWith(word + " ") && !line.equals(word)) {
            throw new IOException("the scale client said " + line + ", not " + word);
        }
        return line;
    }

    /** Waits until the handlers hold {@code count} connections: all echoed, or all closed. */
    private static void awaitOpen(int count) throws InterruptedException, TimeoutException {
        RawHandlers.open.await(count, 60, TimeUnit.SECONDS);
    }

}

package org.wsdetach.demo;

import org.wsdetach.demo.DemoClient.Mode;
import org.wsdetach.demo.DemoClient.Result;
import org.wsdetach.demo.DemoServer.Container;

import java.io.PrintStream;
import java.net.ProtocolException;
import java.net.URI;
import java.time.Duration;
import java.util.Arrays;
import java.util.Locale;

/**
 * The command without arguments (or with only {@code --container}): starts a server on the loopback interface,
 * on Tyrus, Tomcat or Jetty, and, for each detach mode, streams a large echo for the throughput and runs short
 * detaches for the latency.
 */
final class SelfTest {

    private static final long BULK_BYTES = 64L * 1024 * 1024;
    private static final long SHORT_BYTES = 1024;
    /** Single latencies vary with scheduling and the JIT: the median of many is what means something. */
    private static final int SHORT_RUNS = 200;
    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    private SelfTest() {
    }

    /** @return the exit status: 0 if every check passed, 1 otherwise */
    static int run(PrintStream out, Container container) {
        try (DemoServer server = step("starting the server on " + container,
                () -> DemoServer.start(container, "127.0.0.1", 0, null))) {
            URI uri = server.uri();
            out.println("wsdetach self-test on " + container + " against " + uri);
            // The first runs pay for class loading and the JIT: measure the second round only.
            for (Mode mode : Mode.values()) {
                measure(uri, mode);
            }
            for (Mode mode : Mode.values()) {
                out.println(measure(uri, mode));
            }
            out.println("PASS");
            return 0;
        } catch (Failure e) {
            out.println("FAIL: " + e.getMessage());
            e.printStackTrace();
            return 1;
        }
    }

    private static String measure(URI uri, Mode mode) throws Failure {
        Result bulk = step(mode + ", " + BULK_BYTES + "-byte echo", () -> {
            try (DemoClient client = DemoClient.connect(uri, TIMEOUT)) {
                client.sendText("hello");
                String echo = client.readText();
                if (!echo.equals("hello")) {
                    throw new ProtocolException("text echo of \"hello\" was \"" + echo + "\"");
                }
                return client.detach(mode, BULK_BYTES);
            }
        });
        double[] latencies = new double[SHORT_RUNS];
        for (int i = 0; i < SHORT_RUNS; i++) {
            Result result = step(mode + ", short detach " + (i + 1) + " of " + SHORT_RUNS, () -> {
                try (DemoClient client = DemoClient.connect(uri, TIMEOUT)) {
                    return client.detach(mode, SHORT_BYTES);
                }
            });
            latencies[i] = result.latencyNanos() / 1e6;
        }
        return String.format(Locale.ROOT, "%s: detach latency %.2f ms (median of %d), raw echo %d MiB at %.2f MiB/s",
                mode, median(latencies), SHORT_RUNS, bulk.bytes() >> 20, bulk.mibPerSecond());
    }

    private interface Step<T> {
        T run() throws Exception;
    }

    private static <T> T step(String name, Step<T> step) throws Failure {
        try {
            return step.run();
        } catch (Exception e) {
            throw new Failure(name + ": " + e, e);
        }
    }

    private static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        int middle = sorted.length / 2;
        return sorted.length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
    }

    /** A failed step, named in the message. */
    private static final class Failure extends Exception {
        Failure(String message, Throwable cause) {
            super(message, cause);
        }
    }
}

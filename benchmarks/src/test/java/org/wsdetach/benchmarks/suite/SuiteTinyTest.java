package org.wsdetach.benchmarks.suite;

import org.junit.jupiter.api.Test;
import org.wsdetach.benchmarks.suite.BenchServer.Container;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The suite once at {@link Size#TINY} on every container, so that none of its measurements rots: every figure is
 * there and sane, and the JSON file has them all. Speed is the full run's business, never asserted here.
 */
class SuiteTinyTest {

    private static final List<String> ISSUE_KEYS = List.of("adapter_overhead_echo_ratio",
            "adapter_overhead_bulk_ratio", "detached_vs_socket_bulk_ratio", "detached_vs_socket_echo_ratio",
            "detached_tls_vs_tls_socket_bulk_ratio", "detach_latency_p50_rtt", "detach_latency_p99_rtt",
            "scale_sessions_ok", "scale_seconds", "scale_heap_bytes_per_connection", "scale_threads");

    /** The raw figures each ratio comes from, positive throughputs and latencies. */
    private static final List<String> RAW_KEYS = List.of("echo_round_trips_per_s_with_adapter",
            "echo_round_trips_per_s_without_adapter", "bulk_mib_per_s_with_adapter", "bulk_mib_per_s_without_adapter",
            "detached_bulk_mib_per_s", "socket_bulk_mib_per_s", "detached_echo_round_trips_per_s",
            "socket_echo_round_trips_per_s", "detached_tls_bulk_mib_per_s", "tls_socket_bulk_mib_per_s",
            "detach_latency_p50_us", "detach_latency_p99_us", "ping_rtt_p50_us", "ping_rtt_p99_us");

    @Test
    @SuppressWarnings("unchecked")
    void everyFigureOnEveryContainer() throws Exception {
        Map<String, Object> results = Suite.run(Size.TINY, List.of(Container.values()));

        assertThat(results).containsKeys("jvm", "cores", "containers");
        assertThat((Integer) results.get("cores")).isPositive();
        Map<String, Map<String, Object>> containers = (Map<String, Map<String, Object>>) results.get("containers");
        assertThat(containers).containsOnlyKeys("tyrus", "tomcat", "jetty");
        containers.forEach((name, figures) -> {
            assertThat(figures).as(name).containsKeys(ISSUE_KEYS.toArray(String[]::new))
                    .containsKeys(RAW_KEYS.toArray(String[]::new));
            for (String key : ISSUE_KEYS) {
                assertThat(figures.get(key)).as(name + " " + key).isInstanceOf(Number.class);
            }
            for (String key : RAW_KEYS) {
                assertThat(((Number) figures.get(key)).doubleValue()).as(name + " " + key).isPositive().isFinite();
            }
            for (String ratio : ISSUE_KEYS.subList(0, 7)) {
                assertThat(((Number) figures.get(ratio)).doubleValue()).as(name + " " + ratio)
                        .isPositive().isFinite();
            }
            assertThat(figures.get("scale_sessions_ok")).as(name).isEqualTo(Size.TINY.scaleSessions());
            assertThat((Double) figures.get("scale_seconds")).as(name).isPositive().isFinite();
            assertThat((Double) figures.get("scale_heap_bytes_per_connection")).as(name).isFinite();
            assertThat((Integer) figures.get("scale_threads")).as(name).isPositive();
            assertThat(figures.get("tls_cipher_suite")).as(name).asString().startsWith("TLS_");
        });

        Path file = Path.of("target", "bench-results-tiny.json");
        Files.writeString(file, Json.write(results), StandardCharsets.UTF_8);
        String json = Files.readString(file, StandardCharsets.UTF_8);
        for (String key : ISSUE_KEYS) {
            assertThat(json).contains("\"" + key + "\": ");
        }
        assertThat(Suite.table(results)).contains("| tyrus | tomcat | jetty |", "`detach_latency_p50_rtt`");
    }
}

package org.wsdetach.it;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The README's marked code blocks are the code the quick-start tests compile and run: each block that follows
 * {@code <!-- README: name -->} is, line for line and indentation aside, the source between {@code // README: name}
 * and {@code // README: end} in the file the table below names.
 */
class ReadmeQuickStartTest {

    private static final Path ROOT = Path.of(System.getProperty("basedir", ".")).resolve("../..").normalize();
    private static final String KIT = "it-tests/conformance/src/main/java/org/wsdetach/quickstart/";
    private static final Map<String, String> SOURCES = Map.of(
            "endpoint", KIT + "EchoEndpoint.java",
            "non-blocking", KIT + "NonBlockingEcho.java",
            "blocking", KIT + "BlockingEcho.java",
            "tyrus-server", "it-tests/tyrus/src/test/java/org/wsdetach/it/TyrusQuickStartTest.java",
            "tyrus-client", "it-tests/tyrus/src/test/java/org/wsdetach/it/TyrusQuickStartTest.java",
            "tomcat-server", "it-tests/tomcat/src/test/java/org/wsdetach/it/TomcatQuickStartTest.java",
            "jetty-server", "it-tests/jetty/src/test/ee/org/wsdetach/it/JettyQuickStart.java",
            "spring-boot", "examples/spring-boot/src/main/java/org/wsdetach/example/spring/DetachExampleApplication.java");
    private static final Pattern BLOCK = Pattern.compile("<!-- README: ([a-z-]+) -->\\n```java\\n(.*?)```", Pattern.DOTALL);

    @Test
    void everyMarkedBlockIsTheSourceThatRuns() throws IOException {
        Map<String, String> blocks = new LinkedHashMap<>();
        Matcher matcher = BLOCK.matcher(Files.readString(ROOT.resolve("README.md")));
        while (matcher.find()) {
            blocks.put(matcher.group(1), matcher.group(2));
        }
        assertThat(blocks.keySet()).containsExactlyInAnyOrderElementsOf(SOURCES.keySet());
        for (Map.Entry<String, String> block : blocks.entrySet()) {
            String source = Files.readString(ROOT.resolve(SOURCES.get(block.getKey())));
            assertThat(dedent(block.getValue())).as("README block %s", block.getKey())
                    .isEqualTo(dedent(region(source, block.getKey())));
        }
    }

    /** The lines between {@code // README: name} and the next {@code // README: end}. */
    private static String region(String source, String name) {
        String begin = "// README: " + name + "\n";
        int start = source.indexOf(begin);
        assertThat(start).as("marker %s", begin.trim()).isNotNegative();
        int from = source.indexOf('\n', start) + 1;
        int to = source.lastIndexOf('\n', source.indexOf("// README: end", from)) + 1;
        return source.substring(from, to);
    }

    private static String dedent(String text) {
        List<String> lines = text.lines().toList();
        int indent = lines.stream().filter(line -> !line.isBlank())
                .mapToInt(line -> line.length() - line.stripLeading().length()).min().orElse(0);
        return lines.stream().map(line -> line.isBlank() ? "" : line.substring(indent))
                .collect(Collectors.joining("\n", "", "\n"));
    }
}

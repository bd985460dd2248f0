package org.wsdetach.it;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * wsdetach-spi, -core and -tomcat as automatic modules, with Tomcat's embedded jars on the module path: a
 * server-side detach works over {@code ws} and {@code wss} with no {@code --add-opens}, as the README's table says
 * (Tomcat's jars are open modules).
 */
class TomcatModulePathTest {

    private static final Map<String, String> WSDETACH = Map.of(
            "spi", "org.wsdetach", "core", "org.wsdetach.core", "tomcat-adapter", "org.wsdetach.tomcat");
    /** Tomcat's jars; the Jakarta WebSocket API stays on the class path, as tomcat-embed-websocket holds it too. */
    private static final List<String> ON_MODULE_PATH = List.of("tomcat-");
    private static final String MODULES = "modules org.wsdetach org.wsdetach.tomcat org.apache.tomcat.embed.core";
    private static final String ECHOED = "echoed hello, then the end of the stream";

    @TempDir
    Path directory;

    @Test
    void aWsSessionDetachesWithNoOpens() throws Exception {
        assertThat(jvm().run(TomcatModulePathMain.class, List.of())).contains(MODULES, ECHOED);
    }

    @Test
    void aWssSessionDetachesWithNoOpens() throws Exception {
        assertThat(jvm().run(TomcatModulePathMain.class, List.of(), "wss")).contains(MODULES, ECHOED);
    }

    private ModulePathJvm jvm() {
        return new ModulePathJvm(WSDETACH, ON_MODULE_PATH, directory);
    }
}

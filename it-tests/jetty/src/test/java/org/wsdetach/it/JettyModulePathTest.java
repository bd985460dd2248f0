package org.wsdetach.it;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * wsdetach-spi, -core and -jetty as automatic modules, with Jetty (ee10, or ee11 in wsdetach-it-jetty-ee11), the
 * Jakarta APIs and SLF4J on the module path: a server-side detach works over {@code ws} with no {@code --add-opens};
 * over {@code wss} it needs the one the README's table names, and without it is refused before anything is sent; the
 * check of {@code @DetachOnPeerClose} at deployment needs the three more the table names, and without them is left
 * to the first handshake.
 */
class JettyModulePathTest {

    private static final Map<String, String> WSDETACH = Map.of(
            "spi", "org.wsdetach", "core", "org.wsdetach.core", "jetty-adapter", "org.wsdetach.jetty");
    private static final List<String> ON_MODULE_PATH = List.of("jetty-", "jakarta.", "slf4j-", "asm");
    private static final List<String> TLS_OPENS = List.of(
            "--add-opens", "org.eclipse.jetty.io/org.eclipse.jetty.io.ssl=org.wsdetach.jetty");
    private static final List<String> DEPLOYMENT_CHECK_OPENS = List.of(
            "--add-opens", "org.eclipse.jetty.websocket.core.server/org.eclipse.jetty.websocket.core.server"
                    + "=org.wsdetach.jetty",
            "--add-opens", "org.eclipse.jetty." + JettyLayer.NAME + ".websocket.jakarta.server/org.eclipse.jetty."
                    + JettyLayer.NAME + ".websocket.jakarta.server.internal=org.wsdetach.jetty",
            "--add-opens", "org.eclipse.jetty.websocket.core.server/org.eclipse.jetty.websocket.core.server.internal"
                    + "=org.wsdetach.jetty");
    private static final String MODULES = "modules org.wsdetach org.wsdetach.jetty org.eclipse.jetty.server";
    private static final String ECHOED = "echoed hello, then the end of the stream";

    @TempDir
    Path directory;

    @Test
    void aWsSessionDetachesWithNoOpens() throws Exception {
        assertThat(jvm().run(JettyModulePathMain.class, List.of(), "ws")).contains(MODULES, ECHOED);
    }

    @Test
    void aWssSessionDetachesWithTheTlsOpens() throws Exception {
        assertThat(jvm().run(JettyModulePathMain.class, TLS_OPENS, "wss")).contains(MODULES, ECHOED);
    }

    @Test
    void withoutItAWssDetachIsRefused() throws Exception {
        assertThat(jvm().run(JettyModulePathMain.class, List.of(), "wss")).contains(MODULES,
                "refused wsdetach-jetty cannot detach wss sessions here: Jetty's SslConnection is not open to it;"
                        + " on the module path, run with --add-opens org.eclipse.jetty.io/org.eclipse.jetty.io.ssl"
                        + "=org.wsdetach.jetty")
                .doesNotContain(ECHOED);
    }

    @Test
    void withTheDeploymentOpensAWronglyDeclaredHandlerFailsTheStart() throws Exception {
        assertThat(jvm().run(JettyModulePathMain.class, DEPLOYMENT_CHECK_OPENS, "declared")).contains(MODULES,
                "start failed: wsdetach-jetty cannot deploy web application '': " + WronglyDeclared.NO_CONSTRUCTOR);
    }

    @Test
    void withTheDeploymentOpensAWronglyDeclaredHandlerDeployedLateIsRefusedThen() throws Exception {
        assertThat(jvm().run(JettyModulePathMain.class, DEPLOYMENT_CHECK_OPENS, "late")).contains(MODULES,
                "late deployment refused: ", WronglyDeclared.NO_CONSTRUCTOR + "]");
    }

    @Test
    void withoutThemItStartsAndItsHandshakesAreRefused() throws Exception {
        assertThat(jvm().run(JettyModulePathMain.class, List.of(), "declared")).contains(MODULES, "started",
                "handshake upgrade refused: HTTP/1.1 500").doesNotContain("start failed");
    }

    private ModulePathJvm jvm() {
        return new ModulePathJvm(WSDETACH, ON_MODULE_PATH, directory);
    }
}

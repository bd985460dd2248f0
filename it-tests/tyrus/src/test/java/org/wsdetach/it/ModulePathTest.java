package org.wsdetach.it;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * wsdetach-spi, -core and -tyrus as automatic modules, with Tyrus, Grizzly and the Jakarta API on the module path:
 * the server detaches as it does on the class path; the client's detach needs the two {@code --add-opens} the
 * README names, and without them is refused with a message that names them; a server-side {@code wss} detach needs
 * no option, as Grizzly's module opens the filter chain package whose fields the adapter reads.
 */
class ModulePathTest {

    /** The module each wsdetach jar names (Automatic-Module-Name), by the directory of its Maven module. */
    private static final Map<String, String> WSDETACH = Map.of(
            "spi", "org.wsdetach", "core", "org.wsdetach.core", "tyrus-adapter", "org.wsdetach.tyrus");
    private static final List<String> ON_MODULE_PATH = List.of(
            "jakarta.websocket", "jakarta.xml.bind", "jakarta.activation", "tyrus-", "grizzly-");
    private static final List<String> OPENS = List.of(
            "--add-opens", "org.glassfish.tyrus.core/org.glassfish.tyrus.core=org.wsdetach.tyrus",
            "--add-opens", "org.glassfish.tyrus.container.grizzly.client/org.glassfish.tyrus.container.grizzly.client"
                    + "=org.wsdetach.tyrus");

    @TempDir
    Path directory;

    @Test
    void withTheTwoOpensTheServerAndTheClientDetach() throws Exception {
        assertThat(run(OPENS)).contains("modules org.wsdetach org.wsdetach.tyrus", "echoed hello, then -1");
    }

    @Test
    void withoutThemTheClientsDetachIsRefusedWithAMessageThatNamesThem() throws Exception {
        assertThat(run(List.of())).contains("modules org.wsdetach org.wsdetach.tyrus",
                "refused wsdetach cannot detach Tyrus client sessions here",
                "with org.glassfish.tyrus.core and org.glassfish.tyrus.container.grizzly.client open to it on the module path");
    }

    @Test
    void aWssSessionDetachesWithNoOpens() throws Exception {
        assertThat(run(List.of(), "wss")).contains("modules org.wsdetach org.wsdetach.tyrus", "grizzly org.glassfish.grizzly",
                "echoed hello, then the end of the stream");
    }

    private String run(List<String> options, String... args) throws Exception {
        return new ModulePathJvm(WSDETACH, ON_MODULE_PATH, directory).run(ModulePathMain.class, options, args);
    }
}

package org.wsdetach.it;

import jakarta.servlet.Filter;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.junit.jupiter.api.Test;

import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The demo's WAR on Jetty 12 as a standalone Jetty deploys {@code webapps/wsdetach-demo.war} with nothing beside
 * it, with its annotation and Jakarta WebSocket modules ({@link JettyWebApp}, on this module's servlet layer: the
 * WAR is ee10 and ee11 alike, and this class runs on both). Jetty hides its own classes from the application; the
 * WAR's {@code DetachInitializer} makes visible what it links against, and nothing more.
 */
class DemoWarOnJettyTest extends DemoWarConformance {

    private Server server;
    private JettyWebApp webapp;

    @Override
    protected String adapterPackage() {
        return "org.wsdetach.jetty";
    }

    @Override
    protected String providerClassName() {
        return "org.wsdetach.jetty.JettyDetachProvider";
    }

    @Override
    protected int deploy(Path war, ClassLoader containerOnly) throws Exception {
        server = new Server();
        ServerConnector connector = new ServerConnector(server);
        connector.setHost("127.0.0.1");
        connector.setPort(0);
        server.addConnector(connector);
        // Where Jetty unpacks the WAR: in the deployment's work directory, deleted afterwards.
        webapp = JettyWebApp.of(war, CONTEXT_PATH, workDirectory.resolve("webapp"), containerOnly);
        server.setHandler(webapp.handler());
        server.start();
        assertThat(webapp.isAvailable()).as("the web application started").isTrue();
        return connector.getLocalPort();
    }

    @Override
    protected void stopContainer() throws Exception {
        if (server != null) {
            server.stop();
        }
    }

    @Override
    protected ClassLoader webAppClassLoader() {
        return webapp.classLoader();
    }

    @Override
    protected Object detachFilter() {
        List<Map.Entry<String, Filter>> filters = webapp.filters();
        return filters.stream().filter(entry -> entry.getKey().equals("wsdetach")).map(Map.Entry::getValue)
                .findFirst().orElse(null);
    }

    @Test
    void theDetachFilterComesFirstAheadOfJettysWebSocketFilter() {
        assertThat(webapp.filters()).extracting(Map.Entry::getKey).startsWith("wsdetach")
                .contains("org.eclipse.jetty." + JettyLayer.NAME + ".websocket.servlet.WebSocketUpgradeFilter");
    }

    @Test
    void jettysClassesTheAdapterLinksAgainstAreVisibleToTheApplicationAndNoOthers() throws Exception {
        String layer = "org.eclipse.jetty." + JettyLayer.NAME + ".";
        assertThat(webapp.hiddenClasses()).as("Jetty's default: all its classes hidden").contains("org.eclipse.jetty.")
                .contains("-org.eclipse.jetty.io.", "-org.eclipse.jetty.util.", "-org.eclipse.jetty.http.",
                        "-org.eclipse.jetty.server.", "-org.eclipse.jetty.websocket.core.",
                        "-" + layer + "servlet.", "-" + layer + "websocket.");
        ClassLoader loader = webapp.classLoader();
        assertThat(loader.loadClass("org.eclipse.jetty.websocket.core.CoreSession").getClassLoader())
                .as("the server's").isNotSameAs(loader);
        // On the server's class path, and still hidden from the application.
        assertThat(Class.forName("org.eclipse.jetty.xml.XmlConfiguration")).isNotNull();
        assertThatThrownBy(() -> loader.loadClass("org.eclipse.jetty.xml.XmlConfiguration"))
                .isInstanceOf(ClassNotFoundException.class);
    }

    @Test
    void theServerIsJetty() throws Exception {
        try (Socket socket = new Socket(echo().getHost(), echo().getPort())) {
            socket.setSoTimeout(RawPeer.TIMEOUT_MILLIS);
            socket.getOutputStream().write(("GET " + CONTEXT_PATH + "/nothing HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    + "Connection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            String response = new String(socket.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
            assertThat(response).startsWith("HTTP/1.1 404").contains("Server: Jetty(12.");
        }
    }
}

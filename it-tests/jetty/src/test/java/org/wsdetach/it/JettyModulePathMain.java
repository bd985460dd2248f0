package org.wsdetach.it;

import org.eclipse.jetty.server.Server;
import org.wsdetach.Detach;
import org.wsdetach.jetty.DetachInitializer;

import java.io.IOException;

/**
 * Run by {@link JettyModulePathTest} in a JVM of its own, wsdetach and Jetty on the module path, embedded Jetty
 * ({@link JettyFixture}, on the layer this build compiles for). Prints the modules, then, by its argument:
 * {@code ws} or {@code wss}, what a server-side detach ({@link ModulePathDetach}) printed; {@code declared}, how
 * Jetty takes {@link WronglyDeclared.NoConstructorEndpoint}: its start failed, or it started and a handshake got
 * what it printed.
 */
public final class JettyModulePathMain {

    private JettyModulePathMain() {
    }

    public static void main(String[] args) throws Exception {
        System.out.println("modules " + Detach.class.getModule().getName() + " "
                + DetachInitializer.class.getModule().getName() + " " + Server.class.getModule().getName());
        JettyFixture jetty = new JettyFixture();
        switch (args[0]) {
            case "ws" -> {
                try (ServerFixture.RunningServer server = jetty.start(ModulePathDetach.Endpoint.class)) {
                    ModulePathDetach.run(server.uri("/detach"), null);
                }
            }
            case "wss" -> {
                try (ServerFixture.RunningServer server = jetty.startSecure(TestKey.server(),
                        ModulePathDetach.Endpoint.class)) {
                    ModulePathDetach.run(server.uri("/detach"), TestKey.client().getSocketFactory());
                }
            }
            case "declared" -> declared(jetty);
            default -> throw new IllegalArgumentException("ws, wss or declared, not " + args[0]);
        }
    }

    private static void declared(JettyFixture jetty) throws Exception {
        ServerFixture.RunningServer server;
        try {
            server = jetty.start(WronglyDeclared.NoConstructorEndpoint.class);
        } catch (IllegalStateException e) {
            System.out.println("start failed: " + e.getMessage());
            return;
        }
        try (server) {
            System.out.println("started");
            RawPeer.connect(server.uri("/no-constructor")).close();
            System.out.println("upgraded");
        } catch (IOException e) {
            System.out.println("handshake " + e.getMessage());
        }
    }
}

package org.wsdetach.it;

import jakarta.websocket.DeploymentException;
import jakarta.websocket.OnOpen;
import jakarta.websocket.Session;
import jakarta.websocket.server.ServerContainer;
import jakarta.websocket.server.ServerEndpoint;
import org.eclipse.jetty.server.Server;
import org.wsdetach.Detach;
import org.wsdetach.jetty.DetachInitializer;

import java.io.IOException;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Run by {@link JettyModulePathTest} in a JVM of its own, wsdetach and Jetty on the module path, embedded Jetty
 * ({@link JettyFixture}, on the layer this build compiles for). Prints the modules, then, by its argument:
 * {@code ws} or {@code wss}, what a server-side detach ({@link ModulePathDetach}) printed; {@code declared}, how
 * Jetty takes {@link WronglyDeclared.NoConstructorEndpoint}: its start failed, or it started and a handshake got
 * what it printed; {@code late}, what deploying it on the running Jetty did.
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
            case "late" -> late(jetty);
            default -> throw new IllegalArgumentException("ws, wss, declared or late, not " + args[0]);
        }
    }

    private static void late(JettyFixture jetty) throws Exception {
        try (ServerFixture.RunningServer server = jetty.start(LateDeployer.class)) {
            RawPeer.connect(server.uri("/late")).close();
            Throwable refusal = LateDeployer.ADDED.get(10, TimeUnit.SECONDS);
            System.out.println(refusal == null ? "late deployment taken" : "late deployment refused: "
                    + Stream.iterate(refusal, Objects::nonNull, Throwable::getCause).map(Throwable::getMessage).toList());
        }
    }

    /** Deploys {@link WronglyDeclared.NoConstructorEndpoint} as its session opens, on the running Jetty. */
    @ServerEndpoint("/late")
    public static final class LateDeployer {
        static final CompletableFuture<Throwable> ADDED = new CompletableFuture<>();

        @OnOpen
        public void open(Session session) {
            try {
                ((ServerContainer) session.getContainer()).addEndpoint(WronglyDeclared.NoConstructorEndpoint.class);
                ADDED.complete(null);
            } catch (DeploymentException | RuntimeException e) {
                ADDED.complete(e);
            }
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

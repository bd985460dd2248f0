package org.wsdetach.it;

import jakarta.websocket.Endpoint;
import jakarta.websocket.EndpointConfig;
import jakarta.websocket.OnMessage;
import jakarta.websocket.Session;
import jakarta.websocket.server.ServerApplicationConfig;
import jakarta.websocket.server.ServerEndpoint;
import jakarta.websocket.server.ServerEndpointConfig;
import org.wsdetach.DetachHandler;
import org.wsdetach.DetachOnPeerClose;
import org.wsdetach.DetachedConnection;

import java.util.Set;

/**
 * Endpoints whose {@link DetachOnPeerClose} names a handler class no instance can be made of: every container's
 * adapter must refuse to deploy them, and say why.
 */
public final class WronglyDeclared {

    private WronglyDeclared() {
    }

    /** What every refusal's message ends with: the rule a declared handler class breaks. */
    private static final String RULE = ": a declared handler must be a public, non-abstract, top-level or static"
            + " nested class with a public no-argument constructor in an exported package, of which one instance is"
            + " made per session";

    /** The message an adapter refuses {@link NoConstructorEndpoint} with. */
    static final String NO_CONSTRUCTOR = noConstructor(NoConstructorEndpoint.class);

    /** The message an adapter refuses {@link AbstractHandlerEndpoint} with. */
    static final String ABSTRACT = "@DetachOnPeerClose of endpoint " + AbstractHandlerEndpoint.class.getName()
            + " names handler " + AbstractHandler.class.getName() + ", which is abstract" + RULE;

    /** The message an adapter refuses {@code endpoint}, which declares {@link NeedsArgument}, with. */
    static String noConstructor(Class<?> endpoint) {
        return "@DetachOnPeerClose of endpoint " + endpoint.getName() + " names handler " + NeedsArgument.class.getName()
                + ", which has no public no-argument constructor" + RULE;
    }

    @ServerEndpoint("/no-constructor")
    @DetachOnPeerClose(NeedsArgument.class)
    public static class NoConstructorEndpoint {
        @OnMessage
        public String echo(String text) {
            return text;
        }
    }

    /** At a path template, which containers map apart from exact paths. */
    @ServerEndpoint("/no-constructor/{name}")
    @DetachOnPeerClose(NeedsArgument.class)
    public static class NoConstructorTemplateEndpoint {
        @OnMessage
        public String echo(String text) {
            return text;
        }
    }

    /** A programmatic endpoint, deployed by {@link AbstractHandlerConfig} at {@code /abstract-handler}. */
    @DetachOnPeerClose(AbstractHandler.class)
    public static class AbstractHandlerEndpoint extends Endpoint {
        @Override
        public void onOpen(Session session, EndpointConfig config) {
        }
    }

    public static class AbstractHandlerConfig implements ServerApplicationConfig {
        @Override
        public Set<ServerEndpointConfig> getEndpointConfigs(Set<Class<? extends Endpoint>> endpointClasses) {
            return Set.of(ServerEndpointConfig.Builder.create(AbstractHandlerEndpoint.class, "/abstract-handler").build());
        }

        @Override
        public Set<Class<?>> getAnnotatedEndpointClasses(Set<Class<?>> scanned) {
            return Set.of();
        }
    }

    /** Deploys: its handler's constructor can only be found to throw when a session opens. */
    @ServerEndpoint("/throwing-handler")
    @DetachOnPeerClose(ThrowingHandler.class)
    public static class ThrowingHandlerEndpoint {
        @jakarta.websocket.OnOpen
        public void open(Session session) throws Exception {
            Probe.Recorder.open(session);
        }

        @jakarta.websocket.OnClose
        public void close(Session session, jakarta.websocket.CloseReason reason) {
            Probe.Recorder.close(session, reason);
        }
    }

    public static class ThrowingHandler implements DetachHandler {
        public ThrowingHandler() {
            throw new IllegalStateException("no configuration");
        }

        @Override
        public void onDetached(DetachedConnection connection) {
        }
    }

    public static class NeedsArgument implements DetachHandler {
        public NeedsArgument(String configuration) {
        }

        @Override
        public void onDetached(DetachedConnection connection) {
        }
    }

    public abstract static class AbstractHandler implements DetachHandler {
    }
}

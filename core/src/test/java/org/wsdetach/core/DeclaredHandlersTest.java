package org.wsdetach.core;

import jakarta.websocket.DeploymentException;
import org.junit.jupiter.api.Test;
import org.wsdetach.DetachHandler;
import org.wsdetach.DetachOnPeerClose;
import org.wsdetach.DetachedConnection;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The rule for a {@link DetachOnPeerClose} handler class, one case a test, with the exact message. */
class DeclaredHandlersTest {

    private static final String RULE = ": a declared handler must be a public, non-abstract, top-level or static"
            + " nested class with a public no-argument constructor in an exported package, of which one instance is"
            + " made per session";

    @Test
    void aPublicClassWithAPublicNoArgumentConstructorIsAccepted() throws Exception {
        @DetachOnPeerClose(value = Good.class, timeoutMillis = 5)
        final class Endpoint {
        }
        assertThat(DeclaredHandlers.check(Endpoint.class).timeoutMillis()).isEqualTo(5);
    }

    @Test
    void aTopLevelHandlerClassIsAccepted() throws Exception {
        @DetachOnPeerClose(TopLevelHandler.class)
        final class Endpoint {
        }
        assertThat(DeclaredHandlers.check(Endpoint.class).value()).isEqualTo(TopLevelHandler.class);
    }

    @Test
    void aTimeoutOfOneMillisecondIsAccepted() throws Exception {
        @DetachOnPeerClose(value = Good.class, timeoutMillis = 1)
        final class Endpoint {
        }
        assertThat(DeclaredHandlers.check(Endpoint.class).timeoutMillis()).isEqualTo(1);
    }

    @Test
    void anEndpointThatDeclaresNothingIsLeftAlone() throws Exception {
        assertThat(DeclaredHandlers.check(Object.class)).isNull();
    }

    @Test
    void aHandlerWithoutANoArgumentConstructorIsRejected() {
        @DetachOnPeerClose(NoDefaultConstructor.class)
        final class Endpoint {
        }
        assertRejected(Endpoint.class, NoDefaultConstructor.class, "has no public no-argument constructor");
    }

    @Test
    void aHandlerWhoseNoArgumentConstructorIsNotPublicIsRejected() {
        @DetachOnPeerClose(PrivateConstructor.class)
        final class Endpoint {
        }
        assertRejected(Endpoint.class, PrivateConstructor.class, "has no public no-argument constructor");
    }

    @Test
    void anAbstractHandlerIsRejected() {
        @DetachOnPeerClose(Abstract.class)
        final class Endpoint {
        }
        assertRejected(Endpoint.class, Abstract.class, "is abstract");
    }

    @Test
    void anInterfaceIsRejected() {
        @DetachOnPeerClose(AnInterface.class)
        final class Endpoint {
        }
        assertRejected(Endpoint.class, AnInterface.class, "is an interface");
    }

    @Test
    void aHandlerClassThatIsNotPublicIsRejected() {
        @DetachOnPeerClose(NotPublic.class)
        final class Endpoint {
        }
        assertRejected(Endpoint.class, NotPublic.class, "is not public");
    }

    @Test
    void anInnerClassIsRejected() {
        @DetachOnPeerClose(Inner.class)
        final class Endpoint {
        }
        assertRejected(Endpoint.class, Inner.class,
                "is an inner class (it needs an instance of " + DeclaredHandlersTest.class.getName() + "): make it static");
    }

    @Test
    void aTimeoutBelowOneMillisecondIsRejected() {
        @DetachOnPeerClose(value = Good.class, timeoutMillis = 0)
        final class Endpoint {
        }
        assertThatThrownBy(() -> DeclaredHandlers.check(Endpoint.class)).isInstanceOf(DeploymentException.class)
                .hasMessage("@DetachOnPeerClose of endpoint " + Endpoint.class.getName()
                        + " has timeoutMillis 0: it must be at least 1");
    }

    @Test
    void aConstructorThatThrowsFailsTheSessionItWasCalledFor() {
        @DetachOnPeerClose(Throwing.class)
        final class Endpoint {
        }
        DetachOnPeerClose declared = Endpoint.class.getAnnotation(DetachOnPeerClose.class);
        assertThatThrownBy(() -> DeclaredHandlers.newHandler(declared)).isInstanceOf(IllegalStateException.class)
                .hasMessage("the constructor of @DetachOnPeerClose handler " + Throwing.class.getName()
                        + " threw java.lang.IllegalArgumentException: no configuration")
                .hasCauseInstanceOf(IllegalArgumentException.class);
    }

    private static void assertRejected(Class<?> endpoint, Class<?> handler, String problem) {
        assertThatThrownBy(() -> DeclaredHandlers.check(endpoint)).isInstanceOf(DeploymentException.class)
                .hasMessage("@DetachOnPeerClose of endpoint " + endpoint.getName() + " names handler "
                        + handler.getName() + ", which " + problem + RULE);
    }

    public static class Good implements DetachHandler {
        @Override
        public void onDetached(DetachedConnection connection) {
        }
    }

    public static class NoDefaultConstructor extends Good {
        public NoDefaultConstructor(String unused) {
        }
    }

    public static class PrivateConstructor extends Good {
        private PrivateConstructor() {
        }
    }

    public abstract static class Abstract extends Good {
    }

    public interface AnInterface extends DetachHandler {
    }

    static class NotPublic extends Good {
    }

    public class Inner extends Good {
    }

    public static class Throwing extends Good {
        public Throwing() {
            throw new IllegalArgumentException("no configuration");
        }
    }
}

package org.wsdetach.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

class JettyDeclaredHandlerTest extends DeclaredHandlerConformance {

    @Override
    protected ServerFixture fixture() {
        return new JettyFixture();
    }

    @Override
    void assertStartFails(Class<?> endpoint, String message) {
        Throwable failure = catchThrowable(() -> fixture().start(endpoint).close());
        // Embedded Jetty's start throws the listener's exception as it is.
        assertThat(failure).isInstanceOf(IllegalStateException.class)
                .hasMessage("wsdetach-jetty cannot deploy web application '': " + message);
    }

    @Override
    boolean deploysEndpointsAddedAfterTheStart() {
        return true;
    }

    @Override
    boolean handlerMadeInsideTheUpgrade() {
        // Inside Jetty's upgrade, which answers the exception with a 500.
        return true;
    }
}

package org.wsdetach.it;

import org.apache.catalina.LifecycleException;
import org.wsdetach.demo.TomcatServer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TomcatDeclaredHandlerTest extends DeclaredHandlerConformance {

    @Override
    protected ServerFixture fixture() {
        return new TomcatFixture();
    }

    @Override
    void assertStartFails(Class<?> endpoint, String message) {
        try (CapturedLog log = new CapturedLog()) {
            assertThatThrownBy(() -> TomcatServer.start("127.0.0.1", 0, null, true, endpoint).close())
                    .isInstanceOf(LifecycleException.class)
                    .hasMessage("the web application did not start; Tomcat's log says why");
            assertThat(log.mentioning(message)).singleElement().satisfies(messages -> assertThat(messages)
                    .contains("wsdetach-tomcat cannot deploy web application '': " + message));
        }
    }

    @Override
    boolean deploysEndpointsAddedAfterTheStart() {
        return true;
    }

    @Override
    boolean handlerMadeInsideTheUpgrade() {
        // Tomcat makes it as it hands the upgraded connection over: after the 101, before the session.
        return false;
    }
}

package org.wsdetach.it;

import org.junit.jupiter.api.Test;
import org.wsdetach.demo.DemoServer.Container;

import static org.assertj.core.api.Assertions.assertThat;

/** The demo server's wire protocol on embedded Tomcat, ws and wss. */
class DemoOnTomcatProtocolTest extends DemoProtocolConformance {

    @Override
    protected Container container() {
        return Container.TOMCAT;
    }

    @Test
    void theServerIsTomcat() throws Exception {
        // Tomcat's error page names it: Tyrus' Grizzly or Jetty would answer otherwise.
        assertThat(notFoundPage()).startsWith("HTTP/1.1 404").contains("Apache Tomcat");
    }
}

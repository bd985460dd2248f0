package org.wsdetach.example.spring;

import jakarta.websocket.DeploymentException;
import jakarta.websocket.OnMessage;
import jakarta.websocket.server.ServerEndpoint;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.web.servlet.ServletContextInitializer;
import org.springframework.context.annotation.Bean;
import org.springframework.web.socket.server.standard.ServerEndpointExporter;
import org.wsdetach.DetachHandler;
import org.wsdetach.DetachOnPeerClose;
import org.wsdetach.DetachedConnection;
import org.wsdetach.tomcat.DetachInitializer;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * An endpoint whose {@code @DetachOnPeerClose} handler has no public no-argument constructor fails the
 * application's start, naming both classes: {@code ServerEndpointExporter} deploys it after Tomcat's web
 * application has started, and the adapter refuses it then, not at each of its handshakes.
 */
class WronglyDeclaredEndpointTest {

    @Test
    void anEndpointWhoseHandlerCannotBeMadeFailsTheStart() {
        SpringApplicationBuilder application = new SpringApplicationBuilder(WronglyDeclaredApplication.class)
                .properties("server.port=0", "spring.main.banner-mode=off",
                        "server.tomcat.basedir=target/tomcat/wrongly-declared-test");
        assertThatThrownBy(application::run)
                .hasRootCauseInstanceOf(DeploymentException.class)
                .hasRootCauseMessage("@DetachOnPeerClose of endpoint " + WronglyDeclaredEndpoint.class.getName()
                        + " names handler " + NeedsArgument.class.getName() + ", which has no public no-argument"
                        + " constructor: a declared handler must be a public, non-abstract, top-level or static nested"
                        + " class with a public no-argument constructor in an exported package, of which one instance"
                        + " is made per session");
    }

    /**
     * Neither a {@code @SpringBootConfiguration} nor a {@code @Configuration}, so that the example's own tests
     * neither find it nor scan it.
     */
    @EnableAutoConfiguration
    static class WronglyDeclaredApplication {
        @Bean
        ServletContextInitializer wsdetach() {
            return servletContext -> new DetachInitializer().onStartup(null, servletContext);
        }

        @Bean
        ServerEndpointExporter serverEndpointExporter() {
            ServerEndpointExporter exporter = new ServerEndpointExporter();
            exporter.setAnnotatedEndpointClasses(WronglyDeclaredEndpoint.class);
            return exporter;
        }
    }

    @ServerEndpoint("/wrong")
    @DetachOnPeerClose(NeedsArgument.class)
    public static class WronglyDeclaredEndpoint {
        @OnMessage
        public String echo(String text) {
            return text;
        }
    }

    public static class NeedsArgument implements DetachHandler {
        public NeedsArgument(String configuration) {
        }

        @Override
        public void onDetached(DetachedConnection connection) {
        }
    }
}

package org.wsdetach.example.spring;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.web.servlet.ServletContextInitializer;
import org.springframework.context.annotation.Bean;
import org.springframework.web.socket.config.annotation.EnableWebSocket;
import org.springframework.web.socket.config.annotation.WebSocketConfigurer;
import org.springframework.web.socket.config.annotation.WebSocketHandlerRegistry;
import org.springframework.web.socket.server.standard.ServerEndpointExporter;
import org.wsdetach.tomcat.DetachInitializer;

/**
 * A Spring Boot application on embedded Tomcat whose WebSocket sessions detach: an annotated Jakarta endpoint at
 * {@code /echo} ({@link EchoEndpoint}) and a Spring {@code WebSocketHandler} at {@code /spring-echo}
 * ({@link SpringEchoHandler}). Both echo text; the text {@code detach}, or a close frame from the client, detaches,
 * and {@link RawEchoHandler} echoes the raw bytes that follow until the client half-closes.
 */
@SpringBootApplication
@EnableWebSocket
public class DetachExampleApplication implements WebSocketConfigurer {

    public static void main(String[] args) {
        SpringApplication.run(DetachExampleApplication.class, args);
    }

    // README: spring-boot
    @Bean   // Spring Boot runs no ServletContainerInitializer from jars: add wsdetach's by hand
    ServletContextInitializer wsdetach() {
        return servletContext -> new DetachInitializer().onStartup(null, servletContext);
    }

    @Bean   // as usual, for annotated @ServerEndpoint classes
    ServerEndpointExporter serverEndpointExporter() {
        ServerEndpointExporter exporter = new ServerEndpointExporter();
        exporter.setAnnotatedEndpointClasses(EchoEndpoint.class);
        return exporter;
    }
    // README: end

    @Override
    public void registerWebSocketHandlers(WebSocketHandlerRegistry registry) {
        registry.addHandler(new SpringEchoHandler(), "/spring-echo");
    }
}

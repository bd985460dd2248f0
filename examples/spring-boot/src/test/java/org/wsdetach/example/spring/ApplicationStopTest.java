package org.wsdetach.example.spring;

import org.junit.jupiter.api.Test;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.wsdetach.example.spring.RawPeer.hex;

/** Stopping the application closes the detached connections still open, and does not wait for them. */
class ApplicationStopTest {

    @Test
    void stoppingTheApplicationClosesADetachedConnection() throws Exception {
        ConfigurableApplicationContext application = new SpringApplicationBuilder(DetachExampleApplication.class)
                .properties("server.port=0", "spring.main.banner-mode=off",
                        "server.tomcat.basedir=target/tomcat/stop-test")
                .run();
        try {
            int port = application.getEnvironment().getRequiredProperty("local.server.port", Integer.class);
            try (RawPeer peer = RawPeer.upgrade(port, "/echo")) {
                peer.send("8882" + "00000000" + "03e8" + hex("hello"));
                assertThat(peer.receive(4)).isEqualTo("880203e8");
                assertThat(peer.receive(5)).isEqualTo(hex("hello"));

                CompletableFuture.runAsync(application::close).get(20, TimeUnit.SECONDS);
                assertThat(peer.read()).as("end of stream once the application has stopped").isEqualTo(-1);
            }
        } finally {
            application.close();
        }
    }
}

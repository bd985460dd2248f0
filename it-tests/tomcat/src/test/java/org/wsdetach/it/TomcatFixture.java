package org.wsdetach.it;

import org.wsdetach.demo.TomcatServer;

import javax.net.ssl.SSLContext;
import java.net.URI;

/** Embedded Apache Tomcat, NIO connector: with wsdetach's initializer, and without it. */
final class TomcatFixture implements ServerFixture {

    @Override
    public RunningServer start(Class<?>... endpoints) throws Exception {
        return running("ws", TomcatServer.start("127.0.0.1", 0, null, true, endpoints));
    }

    @Override
    public RunningServer startSecure(SSLContext tls, Class<?>... endpoints) throws Exception {
        return running("wss", TomcatServer.start("127.0.0.1", 0, tls, true, endpoints));
    }

    @Override
    public RunningServer startOn(int port, Class<?>... endpoints) throws Exception {
        return running("ws", TomcatServer.start("127.0.0.1", port, null, true, endpoints));
    }

    @Override
    public RunningServer startStock(Class<?>... endpoints) throws Exception {
        return running("ws", TomcatServer.start("127.0.0.1", 0, null, false, endpoints));
    }

    private static RunningServer running(String scheme, TomcatServer server) {
        return new RunningServer() {
            @Override
            public URI uri(String path) {
                return URI.create(scheme + "://127.0.0.1:" + server.port() + path);
            }

            @Override
            public void close() {
                server.close();
            }
        };
    }
}

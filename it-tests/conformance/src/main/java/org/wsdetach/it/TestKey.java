package org.wsdetach.it;

import org.wsdetach.demo.DemoTls;

import javax.net.ssl.SSLContext;
import java.nio.file.Files;
import java.nio.file.Path;

/** The demo's self-signed key, made once per test run: no private key is committed. */
final class TestKey {

    private static SSLContext server;
    private static SSLContext client;

    private TestKey() {
    }

    /** A server context holding the key. */
    static synchronized SSLContext server() throws Exception {
        make();
        return server;
    }

    /** A client context trusting the key's certificate, and nothing else. */
    static synchronized SSLContext client() throws Exception {
        make();
        return client;
    }

    private static void make() throws Exception {
        if (server == null) {
            Path certificate = Files.createTempFile("wsdetach-test", ".crt");
            server = DemoTls.selfSigned(certificate);
            client = DemoTls.trusting(certificate);
            Files.delete(certificate);
        }
    }
}

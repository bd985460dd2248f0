package org.wsdetach.demo;

import javax.net.ssl.SSLContext;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Locale;

/**
 * The demo's command line: without a command a self-test of both detach modes;
 * {@code server --port P [--host H]} serves {@code ws://H:P/echo} until killed;
 * {@code client URI --mode M --bytes N} checks a server's side of the protocol. The self-test and the server
 * run on Tyrus unless {@code --container tomcat} or {@code --container jetty} says embedded Tomcat or Jetty.
 */
public final class Main {

    private static final String USAGE = """
            usage: java -jar wsdetach-demo.jar [--container tyrus|tomcat|jetty]
                     runs the self-test: both detach modes against a local server on that container
                   java -jar wsdetach-demo.jar server --port P [--host H] [--container tyrus|tomcat|jetty]
                                              [--tls [--cert FILE]]
                     serves ws://H:P/echo until killed (H: 127.0.0.1 unless given; P 0: any free port);
                     with --tls, wss:// with a new self-signed key whose certificate goes to FILE
                     (default: wsdetach-demo.crt in the temporary directory, java.io.tmpdir)
                   java -jar wsdetach-demo.jar client ws[s]://HOST:PORT/echo --mode server-detach|client-detach
                                              --bytes N [--trust FILE]
                     detaches one connection to that server, checks its echo of N raw bytes, prints OK or FAIL;
                     wss:// needs --trust with the server's certificate
                 --container: tyrus (Eclipse Tyrus on Grizzly, the default), tomcat (embedded Apache Tomcat,
                              NIO connector) or jetty (embedded Eclipse Jetty 12, ee10)""";

    private Main() {
    }

    public static void main(String[] args) throws InterruptedException {
        try {
            if (args.length == 0 || args[0].startsWith("--")) {
                System.exit(SelfTest.run(System.out, SelfTestOptions.parse(args).container()));
            }
            String[] options = Arrays.copyOfRange(args, 1, args.length);
            switch (args[0]) {
                case "server" -> serve(ServerOptions.parse(options));
                case "client" -> System.exit(check(ClientOptions.parse(options)));
                default -> throw new UsageException("unknown command: " + args[0]);
            }
        } catch (UsageException e) {
            System.err.println(e.getMessage());
            System.err.println(USAGE);
            System.exit(2);
        }
    }

    private static void serve(ServerOptions options) throws InterruptedException {
        DemoServer server;
        try {
            SSLContext tls = options.certificate() == null ? null : DemoTls.selfSigned(options.certificate());
            server = DemoServer.start(options.container(), options.host(), options.port(), tls);
        } catch (Exception e) {
            System.err.println("cannot start the server: " + e);
            System.exit(1);
            return;
        }
        Runtime.getRuntime().addShutdownHook(new Thread(server::close, "demo-server-stop"));
        System.out.println("listening on " + server.uri());
        if (options.certificate() != null) {
            System.out.println("certificate written to " + options.certificate().toAbsolutePath());
        }
        System.out.flush();
        // Grizzly's threads are daemon threads: the server lives only as long as this one waits.
        Thread.currentThread().join();
    }

    /** Runs one detach against the server; the last line printed says how it went. */
    private static int check(ClientOptions options) {
        try (DemoClient client = DemoClient.connect(options.uri(), Duration.ofSeconds(10),
                options.trust() == null ? null : DemoTls.trusting(options.trust()))) {
            DemoClient.Result result = client.detach(options.mode(), options.bytes());
            System.out.printf(Locale.ROOT, "OK mode=%s bytes=%d latency_ms=%.2f%n", result.mode(), result.bytes(),
                    result.latencyNanos() / 1e6);
            return 0;
        } catch (Exception e) {
            System.out.println("FAIL mode=" + options.mode() + " bytes=" + options.bytes() + ": " + e);
            return 1;
        }
    }

    private record ClientOptions(URI uri, DemoClient.Mode mode, long bytes, Path trust) {

        static ClientOptions parse(String[] args) throws UsageException {
            if (args.length == 0) {
                throw new UsageException("missing the server's ws:// address");
            }
            URI uri;
            try {
                uri = new URI(args[0]);
            } catch (URISyntaxException e) {
                throw new UsageException("not an address: " + args[0]);
            }
            if (!"ws".equals(uri.getScheme()) && !"wss".equals(uri.getScheme()) || uri.getHost() == null) {
                throw new UsageException("not a ws:// or wss:// address: " + args[0]);
            }
            DemoClient.Mode mode = null;
            Long bytes = null;
            Path trust = null;
            for (int i = 1; i < args.length; i += 2) {
                if (i + 1 == args.length) {
                    throw new UsageException("missing value after " + args[i]);
                }
                switch (args[i]) {
                    case "--mode" -> mode = parseMode(args[i + 1]);
                    case "--bytes" -> bytes = parseBytes(args[i + 1]);
                    case "--trust" -> trust = Path.of(args[i + 1]);
                    default -> throw new UsageException("unknown option: " + args[i]);
                }
            }
            if (mode == null || bytes == null) {
                throw new UsageException("--mode and --bytes are required");
            }
            if ("wss".equals(uri.getScheme()) && trust == null) {
                throw new UsageException("a wss:// address needs --trust with the server's certificate");
            }
            return new ClientOptions(uri, mode, bytes, trust);
        }

        private static DemoClient.Mode parseMode(String value) throws UsageException {
            try {
                return DemoClient.Mode.of(value);
            } catch (IllegalArgumentException e) {
                throw new UsageException("--mode is server-detach or client-detach, not " + value);
            }
        }

        private static long parseBytes(String value) throws UsageException {
            try {
                long bytes = Long.parseLong(value);
                if (bytes >= 0) {
                    return bytes;
                }
            } catch (NumberFormatException e) {
                // reported below, like a negative number
            }
            throw new UsageException("--bytes is a count of bytes, 0 or more, not " + value);
        }
    }

    /** The self-test's only option, {@code --container}. */
    private record SelfTestOptions(DemoServer.Container container) {

        static SelfTestOptions parse(String[] args) throws UsageException {
            DemoServer.Container container = DemoServer.Container.TYRUS;
            for (int i = 0; i < args.length; i += 2) {
                if (i + 1 == args.length) {
                    throw new UsageException("missing value after " + args[i]);
                }
                if (!args[i].equals("--container")) {
                    throw new UsageException("unknown option: " + args[i]);
                }
                container = parseContainer(args[i + 1]);
            }
            return new SelfTestOptions(container);
        }
    }

    private static DemoServer.Container parseContainer(String value) throws UsageException {
        try {
            return DemoServer.Container.of(value);
        } catch (IllegalArgumentException e) {
            throw new UsageException("--container is tyrus, tomcat or jetty, not " + value);
        }
    }

    /** @param certificate where to write the certificate of a wss server; null for plain ws */
    private record ServerOptions(DemoServer.Container container, String host, int port, Path certificate) {

        static ServerOptions parse(String[] args) throws UsageException {
            DemoServer.Container container = DemoServer.Container.TYRUS;
            String host = "127.0.0.1";
            Integer port = null;
            boolean tls = false;
            // Not the working directory: a run from a checkout would leave the file in its tree.
            Path certificate = Path.of(System.getProperty("java.io.tmpdir"), "wsdetach-demo.crt");
            for (int i = 0; i < args.length; i += 2) {
                if (args[i].equals("--tls")) {
                    tls = true;
                    i--;
                    continue;
                }
                if (i + 1 == args.length) {
                    throw new UsageException("missing value after " + args[i]);
                }
                switch (args[i]) {
                    case "--container" -> container = parseContainer(args[i + 1]);
                    case "--host" -> host = args[i + 1];
                    case "--port" -> port = parsePort(args[i + 1]);
                    case "--cert" -> certificate = Path.of(args[i + 1]);
                    default -> throw new UsageException("unknown option: " + args[i]);
                }
            }
            if (port == null) {
                throw new UsageException("missing --port");
            }
            return new ServerOptions(container, host, port, tls ? certificate : null);
        }

        private static int parsePort(String value) throws UsageException {
            try {
                int port = Integer.parseInt(value);
                if (port >= 0 && port <= 65535) {
                    return port;
                }
            } catch (NumberFormatException e) {
                // reported below, like an out-of-range number
            }
            throw new UsageException("not a port (0-65535): " + value);
        }
    }

    private static final class UsageException extends Exception {
        UsageException(String message) {
            super(message);
        }
    }
}

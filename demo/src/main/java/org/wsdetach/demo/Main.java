package org.wsdetach.demo;

import java.util.Arrays;

/**
 * The demo's command line: without arguments a self-test of both detach modes;
 * {@code server --port P [--host H]} serves {@code ws://H:P/echo} until killed.
 */
public final class Main {

    private static final String USAGE = """
            usage: java -jar wsdetach-demo.jar
                     runs the self-test: both detach modes against a local server
                   java -jar wsdetach-demo.jar server --port P [--host H]
                     serves ws://H:P/echo until killed (H: 127.0.0.1 unless given; P 0: any free port)""";

    private Main() {
    }

    public static void main(String[] args) throws InterruptedException {
        if (args.length == 0) {
            System.exit(SelfTest.run(System.out));
        }
        try {
            if (!args[0].equals("server")) {
                throw new UsageException("unknown command: " + args[0]);
            }
            serve(ServerOptions.parse(Arrays.copyOfRange(args, 1, args.length)));
        } catch (UsageException e) {
            System.err.println(e.getMessage());
            System.err.println(USAGE);
            System.exit(2);
        }
    }

    private static void serve(ServerOptions options) throws InterruptedException {
        DemoServer server;
        try {
            server = DemoServer.start(options.host(), options.port());
        } catch (Exception e) {
            System.err.println("cannot start the server: " + e);
            System.exit(1);
            return;
        }
        Runtime.getRuntime().addShutdownHook(new Thread(server::close, "demo-server-stop"));
        System.out.println("listening on " + server.uri());
        System.out.flush();
        // Grizzly's threads are daemon threads: the server lives only as long as this one waits.
        Thread.currentThread().join();
    }

    private record ServerOptions(String host, int port) {

        static ServerOptions parse(String[] args) throws UsageException {
            String host = "127.0.0.1";
            Integer port = null;
            for (int i = 0; i < args.length; i += 2) {
                if (i + 1 == args.length) {
                    throw new UsageException("missing value after " + args[i]);
                }
                switch (args[i]) {
                    case "--host" -> host = args[i + 1];
                    case "--port" -> port = parsePort(args[i + 1]);
                    default -> throw new UsageException("unknown option: " + args[i]);
                }
            }
            if (port == null) {
                throw new UsageException("missing --port");
            }
            return new ServerOptions(host, port);
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

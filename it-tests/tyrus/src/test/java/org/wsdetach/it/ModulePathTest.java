package org.wsdetach.it;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * wsdetach-spi, -core and -tyrus as automatic modules, with Tyrus, Grizzly and the Jakarta API on the module path:
 * the server detaches as it does on the class path; the client's detach needs the two {@code --add-opens} the
 * README names, and without them is refused with a message that names them.
 */
class ModulePathTest {

    /** The module each wsdetach jar names (Automatic-Module-Name), by the directory of its Maven module. */
    private static final Map<String, String> WSDETACH = Map.of(
            "spi", "org.wsdetach", "core", "org.wsdetach.core", "tyrus-adapter", "org.wsdetach.tyrus");
    private static final List<String> ON_MODULE_PATH = List.of(
            "jakarta.websocket", "jakarta.xml.bind", "jakarta.activation", "tyrus-", "grizzly-");
    private static final List<String> OPENS = List.of(
            "--add-opens", "org.glassfish.tyrus.core/org.glassfish.tyrus.core=org.wsdetach.tyrus",
            "--add-opens", "org.glassfish.tyrus.container.grizzly.client/org.glassfish.tyrus.container.grizzly.client"
                    + "=org.wsdetach.tyrus");

    @TempDir
    Path directory;

    @Test
    void withTheTwoOpensTheServerAndTheClientDetach() throws Exception {
        assertThat(run(OPENS)).contains("modules org.wsdetach org.wsdetach.tyrus", "echoed hello, then -1");
    }

    @Test
    void withoutThemTheClientsDetachIsRefusedWithAMessageThatNamesThem() throws Exception {
        assertThat(run(List.of())).contains("modules org.wsdetach org.wsdetach.tyrus",
                "refused wsdetach cannot detach Tyrus client sessions here",
                "with org.glassfish.tyrus.core and org.glassfish.tyrus.container.grizzly.client open to it on the module path");
    }

    private String run(List<String> options) throws Exception {
        List<String> modulePath = new ArrayList<>();
        List<String> classPath = new ArrayList<>();
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            Path path = Path.of(entry);
            String wsdetach = wsdetachModule(path);
            String name = path.getFileName().toString();
            if (wsdetach != null) {
                modulePath.add(asModuleJar(path, wsdetach).toString());
            } else if (ON_MODULE_PATH.stream().anyMatch(name::startsWith)) {
                modulePath.add(entry);
            } else {
                classPath.add(entry);
            }
        }
        assertThat(modulePath).hasSizeGreaterThan(WSDETACH.size());
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--module-path", String.join(File.pathSeparator, modulePath), "--add-modules", "ALL-MODULE-PATH"));
        command.addAll(options);
        command.addAll(List.of("-cp", String.join(File.pathSeparator, classPath), ModulePathMain.class.getName()));
        Path output = directory.resolve("output.txt");
        Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(output.toFile()).start();
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
        }
        String printed = Files.readString(output);
        assertThat(process.exitValue()).as(printed).isZero();
        return printed;
    }

    /**
     * The module that wsdetach's jar at {@code path} names (or its classes directory, before the package phase of a
     * reactor build), or null for any other entry.
     */
    private static String wsdetachModule(Path path) {
        for (Map.Entry<String, String> module : WSDETACH.entrySet()) {
            String artifact = "wsdetach-" + module.getKey().replace("-adapter", "") + "-";
            String name = path.getFileName().toString();
            if (path.endsWith(Path.of(module.getKey(), "target", "classes"))
                    || (name.startsWith(artifact) && name.endsWith(".jar"))) {
                return module.getValue();
            }
        }
        return null;
    }

    /** The jar itself, its manifest checked; a classes directory packed into a jar named as the pom names it. */
    private Path asModuleJar(Path path, String module) throws IOException {
        if (Files.isRegularFile(path)) {
            try (JarFile jar = new JarFile(path.toFile())) {
                assertThat(jar.getManifest().getMainAttributes().getValue("Automatic-Module-Name")).isEqualTo(module);
            }
            return path;
        }
        Manifest manifest = new Manifest();
        manifest.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        manifest.getMainAttributes().putValue("Automatic-Module-Name", module);
        Path jar = directory.resolve(module + ".jar");
        try (OutputStream file = Files.newOutputStream(jar); JarOutputStream out = new JarOutputStream(file, manifest);
             Stream<Path> files = Files.walk(path)) {
            for (Path entry : (Iterable<Path>) files.filter(Files::isRegularFile)::iterator) {
                out.putNextEntry(new JarEntry(path.relativize(entry).toString().replace(File.separatorChar, '/')));
                Files.copy(entry, out);
                out.closeEntry();
            }
        }
        return jar;
    }
}

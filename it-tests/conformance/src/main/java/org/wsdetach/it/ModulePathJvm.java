package org.wsdetach.it;

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
 * A JVM of its own with the running test's class path split in two: wsdetach's jars as the automatic modules their
 * manifests name, and the container's jars, on the module path; everything else (the kit, the test classes,
 * JUnit) on the class path. What the README's "Module names" section promises is checked in such a JVM.
 */
public final class ModulePathJvm {

    private final Map<String, String> wsdetach;
    private final List<String> onModulePath;
    private final Path directory;

    /**
     * @param wsdetach     the module each wsdetach jar names (Automatic-Module-Name), by the directory of its Maven
     *                     module, for example {@code "tomcat-adapter" -> "org.wsdetach.tomcat"}
     * @param onModulePath how the names of the container's jars begin, the jars that go on the module path
     * @param directory    where the jars made from classes directories, and the JVM's output, are written
     */
    public ModulePathJvm(Map<String, String> wsdetach, List<String> onModulePath, Path directory) {
        this.wsdetach = Map.copyOf(wsdetach);
        this.onModulePath = List.copyOf(onModulePath);
        this.directory = directory;
    }

    /**
     * Runs {@code main} with {@code options} before it on the command line and {@code args} after it, and waits at most 60 s for it to exit.
     *
     * @return what it printed, stdout and stderr together, once it has exited with status 0 (asserted)
     */
    public String run(Class<?> main, List<String> options, String... args) throws Exception {
        List<String> modulePath = new ArrayList<>();
        List<String> classPath = new ArrayList<>();
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            Path path = Path.of(entry);
            String module = wsdetachModule(path);
            String name = path.getFileName().toString();
            if (module != null) {
                modulePath.add(asModuleJar(path, module).toString());
            } else if (onModulePath.stream().anyMatch(name::startsWith)) {
                modulePath.add(entry);
            } else {
                classPath.add(entry);
            }
        }
        assertThat(modulePath).hasSizeGreaterThan(wsdetach.size());
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--module-path", String.join(File.pathSeparator, modulePath), "--add-modules", "ALL-MODULE-PATH"));
        command.addAll(options);
        command.addAll(List.of("-cp", String.join(File.pathSeparator, classPath), main.getName()));
        command.addAll(List.of(args));
        Path output = Files.createTempFile(directory, "output", ".txt");
        Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(output.toFile()).start();
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor();
        }
        String printed = Files.readString(output);
        assertThat(process.exitValue()).as(printed).isZero();
        return printed;
    }

    /**
     * The module that wsdetach's jar at {@code path} names (or its classes directory, before the package phase of a
     * reactor build), or null for any other entry.
     */
    private String wsdetachModule(Path path) {
        for (Map.Entry<String, String> module : wsdetach.entrySet()) {
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

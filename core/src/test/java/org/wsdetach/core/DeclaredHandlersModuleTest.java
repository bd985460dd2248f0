package org.wsdetach.core;

import jakarta.websocket.CloseReason;
import jakarta.websocket.DeploymentException;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.wsdetach.DetachHandler;
import org.wsdetach.DetachOnPeerClose;

import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.module.Configuration;
import java.lang.module.ModuleFinder;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The rule for a {@link DetachOnPeerClose} handler class in a named module: its package must be exported to the
 * core, which makes the handlers by reflection. The module, {@code handlers}, is compiled for the test and
 * defined in a layer of its own; it exports {@code handlers.endpoints} (two endpoints and a handler) and keeps
 * {@code handlers.internal} (a handler) to itself. The core is on the test's class path, except in one case, which
 * jars it and defines it in a layer beside {@code handlers}, as the automatic module it is on a module path.
 */
class DeclaredHandlersModuleTest {

    private static final String MODULE = "handlers";
    private static final String CORE_MODULE = "org.wsdetach.core";

    @TempDir
    static Path directory;

    private static Path classes;
    private static ClassLoader loader;

    @BeforeAll
    static void compileAndDefineTheModule() throws IOException, URISyntaxException {
        Path sources = directory.resolve("src");
        source(sources, "module-info.java", "module handlers { exports handlers.endpoints; }");
        source(sources, "handlers/endpoints/ExportedHandler.java", """
                package handlers.endpoints;
                public class ExportedHandler implements org.wsdetach.DetachHandler {
                    @Override public void onDetached(org.wsdetach.DetachedConnection connection) { }
                }""");
        source(sources, "handlers/internal/InternalHandler.java", """
                package handlers.internal;
                public class InternalHandler implements org.wsdetach.DetachHandler {
                    @Override public void onDetached(org.wsdetach.DetachedConnection connection) { }
                }""");
        source(sources, "handlers/endpoints/ExportedHandlerEndpoint.java", """
                package handlers.endpoints;
                @org.wsdetach.DetachOnPeerClose(ExportedHandler.class)
                public class ExportedHandlerEndpoint { }""");
        source(sources, "handlers/endpoints/InternalHandlerEndpoint.java", """
                package handlers.endpoints;
                @org.wsdetach.DetachOnPeerClose(handlers.internal.InternalHandler.class)
                public class InternalHandlerEndpoint { }""");
        classes = directory.resolve("classes");
        // The module reads the spi, on the test's class path, as the unnamed module.
        String classPath = location(DetachHandler.class) + java.io.File.pathSeparator + location(CloseReason.class);
        List<String> arguments = new ArrayList<>(List.of("-d", classes.toString(), "--add-reads",
                MODULE + "=ALL-UNNAMED", "--class-path", classPath));
        try (var files = Files.walk(sources)) {
            files.filter(file -> file.toString().endsWith(".java")).forEach(file -> arguments.add(file.toString()));
        }
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        ByteArrayOutputStream errors = new ByteArrayOutputStream();
        assertThat(javac.run(null, null, errors, arguments.toArray(String[]::new)))
                .as("javac: %s", errors.toString(StandardCharsets.UTF_8)).isZero();

        loader = layer(classes).findLoader(MODULE);
    }

    @Test
    void aHandlerInAPackageTheModuleExportsIsAcceptedAndMade() throws Exception {
        DetachOnPeerClose declared = DeclaredHandlers.check(endpoint("ExportedHandlerEndpoint"));

        assertThat(DeclaredHandlers.newHandler(declared).getClass().getModule().getName()).isEqualTo(MODULE);
    }

    @Test
    void aHandlerInAPackageTheModuleDoesNotExportIsRejected() throws Exception {
        Class<?> endpoint = endpoint("InternalHandlerEndpoint");

        assertThatThrownBy(() -> DeclaredHandlers.check(endpoint)).isInstanceOf(DeploymentException.class)
                .hasMessage("@DetachOnPeerClose of endpoint handlers.endpoints.InternalHandlerEndpoint names handler"
                        + " handlers.internal.InternalHandler, which is in package handlers.internal, which its module"
                        + " handlers does not export to the class path, where wsdetach-core makes the handlers: a"
                        + " declared handler must be a public, non-abstract, top-level or static nested class with a"
                        + " public no-argument constructor in an exported package, of which one instance is made per"
                        + " session");
    }

    @Test
    void aSessionOfAnUncheckedEndpointWhoseHandlerIsNotExportedFailsWithTheSameFault() throws Exception {
        DetachOnPeerClose declared = endpoint("InternalHandlerEndpoint").getAnnotation(DetachOnPeerClose.class);

        assertThatThrownBy(() -> DeclaredHandlers.newHandler(declared)).isInstanceOf(IllegalStateException.class)
                .hasMessage("cannot make @DetachOnPeerClose handler handlers.internal.InternalHandler: it is in package"
                        + " handlers.internal, which its module handlers does not export to the class path, where"
                        + " wsdetach-core makes the handlers")
                .hasCauseInstanceOf(IllegalAccessException.class);
    }

    @Test
    void withTheCoreOnTheModulePathTheRefusalNamesTheCoresModule() throws Exception {
        // The core, jarred as the automatic module it is on a module path, in a layer with the handlers' module.
        Path coreJar = directory.resolve(CORE_MODULE + ".jar");
        jar(Path.of(location(DeclaredHandlers.class)), coreJar);
        ModuleLayer layer = layer(classes, coreJar);
        Class<?> layersDeclaredHandlers = layer.findLoader(CORE_MODULE).loadClass(DeclaredHandlers.class.getName());
        assertThat(layersDeclaredHandlers.getModule().getName()).isEqualTo(CORE_MODULE);
        Method check = layersDeclaredHandlers.getDeclaredMethod("check", Class.class);
        check.setAccessible(true);
        Class<?> endpoint = layer.findLoader(MODULE).loadClass("handlers.endpoints.InternalHandlerEndpoint");

        assertThatThrownBy(() -> check.invoke(null, endpoint)).isInstanceOf(InvocationTargetException.class)
                .cause().isInstanceOf(DeploymentException.class)
                .hasMessageContaining("which its module handlers does not export to module " + CORE_MODULE
                        + ", where wsdetach-core makes the handlers: ");
    }

    /**
     * A layer over the boot layer, with one loader under the test's, of every module at {@code paths}, of which
     * {@code handlers} reads the unnamed module, where the spi is.
     */
    private static ModuleLayer layer(Path... paths) {
        ModuleFinder finder = ModuleFinder.of(paths);
        Set<String> roots = finder.findAll().stream().map(module -> module.descriptor().name())
                .collect(Collectors.toSet());
        Configuration configuration = ModuleLayer.boot().configuration().resolve(finder, ModuleFinder.of(), roots);
        ClassLoader testLoader = DeclaredHandlersModuleTest.class.getClassLoader();
        ModuleLayer.Controller controller = ModuleLayer.defineModulesWithOneLoader(configuration,
                List.of(ModuleLayer.boot()), testLoader);
        controller.addReads(controller.layer().findModule(MODULE).orElseThrow(), testLoader.getUnnamedModule());
        return controller.layer();
    }

    private static void jar(Path classDirectory, Path jar) throws IOException {
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar));
             var files = Files.walk(classDirectory)) {
            for (Path file : (Iterable<Path>) files.filter(Files::isRegularFile)::iterator) {
                out.putNextEntry(new JarEntry(classDirectory.relativize(file).toString().replace('\\', '/')));
                Files.copy(file, out);
                out.closeEntry();
            }
        }
    }

    private static Class<?> endpoint(String simpleName) throws ClassNotFoundException {
        return loader.loadClass("handlers.endpoints." + simpleName);
    }

    private static void source(Path sources, String file, String text) throws IOException {
        Path path = sources.resolve(file);
        Files.createDirectories(path.getParent());
        Files.writeString(path, text);
    }

    private static String location(Class<?> type) throws URISyntaxException {
        return Path.of(type.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
    }
}

package org.wsdetach.it;

import java.io.IOException;
import java.io.InputStream;
import java.net.URL;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Enumeration;
import java.util.List;

/**
 * A test's class loader without wsdetach, the demo and the tests, to be the parent of a deployed web
 * application's class loader, as a standalone container's own class loader has none of them: it refuses every
 * {@code org.wsdetach} class and hides the resources (their {@code META-INF/services} above all) of each class
 * path entry that holds one of the given classes.
 */
public final class ContainerOnlyClassLoader extends ClassLoader {

    private final List<String> hiddenRoots = new ArrayList<>();

    /**
     * @param parent       the test's class loader
     * @param hiddenByName the name of a class of each class path entry to hide
     */
    public ContainerOnlyClassLoader(ClassLoader parent, String... hiddenByName) {
        super(parent);
        for (String className : hiddenByName) {
            String resource = className.replace('.', '/') + ".class";
            URL url = parent.getResource(resource);
            if (url == null) {
                throw new IllegalArgumentException(className + " is not on the class path");
            }
            String location = url.toString();
            hiddenRoots.add(location.substring(0, location.length() - resource.length()));
        }
    }

    @Override
    protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
        if (name.startsWith("org.wsdetach.")) {
            throw new ClassNotFoundException(name + " is not the container's");
        }
        return super.loadClass(name, resolve);
    }

    @Override
    public URL getResource(String name) {
        try {
            Enumeration<URL> visible = getResources(name);
            return visible.hasMoreElements() ? visible.nextElement() : null;
        } catch (IOException e) {
            return null;
        }
    }

    @Override
    public InputStream getResourceAsStream(String name) {
        URL url = getResource(name);
        try {
            return url == null ? null : url.openStream();
        } catch (IOException e) {
            return null;
        }
    }

    @Override
    public Enumeration<URL> getResources(String name) throws IOException {
        List<URL> visible = new ArrayList<>();
        for (URL url : Collections.list(super.getResources(name))) {
            String location = url.toString();
            if (hiddenRoots.stream().noneMatch(location::startsWith)) {
                visible.add(url);
            }
        }
        return Collections.enumeration(visible);
    }
}

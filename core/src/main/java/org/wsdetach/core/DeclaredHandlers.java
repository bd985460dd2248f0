package org.wsdetach.core;

import jakarta.websocket.DeploymentException;
import org.wsdetach.DetachHandler;
import org.wsdetach.DetachOnPeerClose;

import java.lang.reflect.Modifier;
import java.util.Objects;

/**
 * The rule for the handler class an endpoint declares with {@link DetachOnPeerClose}, in one place: it must be a
 * class the provider can make an instance of for each session, that is, a public, non-abstract class, not an
 * inner class, with a public no-argument constructor, in a package its module exports to wsdetach-core. Adapters check it when they deploy an endpoint, so that
 * a wrong declaration fails the deployment, naming both classes, instead of every session that opens.
 */
public final class DeclaredHandlers {

    private DeclaredHandlers() {
    }

    /**
     * Checks what {@code endpointClass} declares, if anything.
     *
     * @param endpointClass an endpoint class: annotated with {@code @ServerEndpoint}, or a programmatic endpoint
     * @return its declaration, or null if it declares no handler
     * @throws DeploymentException if the declared handler class breaks the rule; the message names the endpoint
     *                             class, the handler class and what is wrong
     */
    public static DetachOnPeerClose check(Class<?> endpointClass) throws DeploymentException {
        DetachOnPeerClose declared = endpointClass.getAnnotation(DetachOnPeerClose.class);
        if (declared == null) {
            return null;
        }
        String problem = problem(declared.value());
        if (problem != null) {
            throw new DeploymentException("@DetachOnPeerClose of endpoint " + endpointClass.getName()
                    + " names handler " + declared.value().getName() + ", which " + problem + ": a declared handler"
                    + " must be a public, non-abstract, top-level or static nested class with a public no-argument"
                    + " constructor in an exported package, of which one instance is made per session");
        }
        if (declared.timeoutMillis() < 1) {
            throw new DeploymentException("@DetachOnPeerClose of endpoint " + endpointClass.getName()
                    + " has timeoutMillis " + declared.timeoutMillis() + ": it must be at least 1");
        }
        return declared;
    }

    /** What keeps instances of {@code type} from being made with its public no-argument constructor; null if nothing. */
    private static String problem(Class<? extends DetachHandler> type) {
        int modifiers = type.getModifiers();
        if (type.isInterface()) {
            return "is an interface";
        }
        if (Modifier.isAbstract(modifiers)) {
            return "is abstract";
        }
        if (!Modifier.isPublic(modifiers)) {
            return "is not public";
        }
        if (type.isMemberClass() && !Modifier.isStatic(modifiers)) {
            return "is an inner class (it needs an instance of " + type.getEnclosingClass().getName()
                    + "): make it static";
        }
        try {
            type.getConstructor();
        } catch (NoSuchMethodException e) {
            return "has no public no-argument constructor";
        }
        Module core = DeclaredHandlers.class.getModule();
        if (!type.getModule().isExported(type.getPackageName(), core)) {
            return "is in package " + type.getPackageName() + ", which its module " + type.getModule().getName()
                    + " does not export to " + (core.isNamed() ? "module " + core.getName() : "the class path")
                    + ", where wsdetach-core makes the handlers";
        }
        return null;
    }

    /**
     * Makes the handler of one session from a declaration that {@link #check} accepted.
     *
     * @throws IllegalStateException if the handler's constructor throws, with what it threw as the cause, or if
     *                               the class cannot be instantiated after all
     */
    static DetachHandler newHandler(DetachOnPeerClose declared) {
        Class<? extends DetachHandler> type = declared.value();
        try {
            return type.getConstructor().newInstance();
        } catch (java.lang.reflect.InvocationTargetException e) {
            throw new IllegalStateException("the constructor of @DetachOnPeerClose handler " + type.getName()
                    + " threw " + e.getCause(), e.getCause());
        } catch (ReflectiveOperationException e) {
            // The rule names every reason why the constructor cannot be called; what the JDK says is the fallback.
            throw new IllegalStateException("cannot make @DetachOnPeerClose handler " + type.getName() + ": it "
                    + Objects.requireNonNullElse(problem(type), "cannot be made: " + e), e);
        }
    }
}

/**
 * Detach on Eclipse Jetty 12.1, ee10 and ee11, embedded or in a WAR: {@link org.wsdetach.jetty.DetachInitializer},
 * a servlet container initializer that Jetty finds in a web application scanned for annotations and that an
 * embedded {@code ServletContextHandler} adds by hand. The provider itself is found by
 * {@link java.util.ServiceLoader}.
 */
package org.wsdetach.jetty;

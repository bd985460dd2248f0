/**
 * Detach on Apache Tomcat 10.1 and 11 (NIO connector), embedded, in a WAR or under Spring Boot:
 * {@link org.wsdetach.tomcat.DetachInitializer}, a servlet container initializer that Tomcat finds in a scanned
 * web application and that an embedded context or a Spring Boot application adds by hand. The provider itself is
 * found by {@link java.util.ServiceLoader}.
 */
package org.wsdetach.tomcat;

/**
 * Detach on Eclipse Tyrus (Grizzly), server and client: on the class path of an
 * {@code org.glassfish.tyrus.server.Server}, {@link org.wsdetach.tyrus.DetachingServerContainerFactory} serves its
 * endpoints (its constants are the server's properties: the host to bind, the {@code SSLContext} for {@code wss});
 * {@link org.wsdetach.tyrus.DetachingClientContainer} makes Tyrus clients whose sessions detach, and
 * {@link org.wsdetach.tyrus.DetachAwareReconnectHandler} keeps a reconnect handler from taking a detach for a
 * disconnect. The provider itself is found by {@link java.util.ServiceLoader}.
 */
package org.wsdetach.tyrus;

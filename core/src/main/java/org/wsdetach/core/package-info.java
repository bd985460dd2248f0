/**
 * The container-neutral detach core that every adapter builds on: an adapter implements
 * {@link org.wsdetach.core.ContainerConnection} for each upgraded connection and puts a
 * {@link org.wsdetach.core.DetachableConnection} between its container and the network; the core performs the
 * close-frame exchange, enforces the deadlines, and hands over a plain or TLS detached connection served by
 * {@link org.wsdetach.core.DetachThreads}. Each detach is reported as a JDK Flight Recorder event,
 * {@code org.wsdetach.Detach}. Its public types are public for the adapters; applications use
 * {@link org.wsdetach} only.
 */
package org.wsdetach.core;

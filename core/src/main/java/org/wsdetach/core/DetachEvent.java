package org.wsdetach.core;

import jdk.jfr.Category;
import jdk.jfr.DataAmount;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;

/**
 * One detach, as a JDK Flight Recorder event: from its request ({@code Detach.detach}, or the first byte of the
 * peer's close frame for a detach the peer starts) to the hand-over of the connection, or to its failure. Made,
 * filled and committed only by {@link DetachRecording}, which touches this class only while a recording asks for
 * the event.
 */
@Name(DetachEvent.NAME)
@Label("WebSocket Detach")
@Category({"wsdetach"})
@Description("A detach of a WebSocket session, from its request to the hand-over of the connection or to its failure")
@StackTrace(false)
final class DetachEvent extends Event {

    /** The name {@code jfr print --events} takes. */
    static final String NAME = "org.wsdetach.Detach";

    @Label("Container")
    @Description("The container whose session detached: Tyrus, Tomcat or Jetty (ContainerConnection.containerName)")
    String container;

    @Label("Side")
    @Description("server or client: which end of the WebSocket connection this is")
    String side;

    @Label("Direction")
    @Description("local: Detach.detach sent the first close frame; peer: the peer's close frame started the detach")
    String direction;

    @Label("Scheme")
    @Description("ws or wss")
    String scheme;

    @Label("Outcome")
    @Description("detached, or the class of the exception the detach failed with")
    String outcome;

    @Label("Failure")
    @Description("The failure's message; null for a detach that succeeded")
    String failure;

    @Label("Bytes Handed Over")
    @Description("Bytes the peer sent after its close frame that were handed over with the connection")
    @DataAmount
    long bytesHandedOver;
}

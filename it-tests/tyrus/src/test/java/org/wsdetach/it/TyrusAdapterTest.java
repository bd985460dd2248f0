package org.wsdetach.it;

import org.glassfish.tyrus.spi.ServerContainerFactory;
import org.junit.jupiter.api.Test;
import org.wsdetach.DetachedConnection;
import org.wsdetach.tyrus.DetachingServerContainerFactory;

import java.nio.channels.SocketChannel;
import java.util.Map;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * What only the Tyrus adapter promises: how Tyrus finds it, the native objects it exposes, and what of Grizzly's an
 * idle detached connection no longer keeps.
 */
class TyrusAdapterTest extends ConformanceBase {

    @Override
    protected ServerFixture fixture() {
        return new TyrusFixture();
    }

    @Test
    void tyrusFindsTheDetachingContainerThroughServiceLoader() {
        assertThat(ServerContainerFactory.createServerContainer(Map.of()).getClass().getName())
                .isEqualTo("org.wsdetach.tyrus.DetachingServerContainer");
        assertThat(new DetachingServerContainerFactory().createContainer(null)).isNotNull();
    }

    @Test
    void aDetachedConnectionUnwrapsToItsSocketChannelAndGrizzlyConnection() throws Exception {
        try (SocketPeer peer = peer("/probe")) {
            DetachedConnection connection = detachedOnGo(peer);
            SocketChannel channel = connection.unwrap(SocketChannel.class).orElseThrow();
            assertThat(channel.getRemoteAddress()).isEqualTo(peer.socket().getLocalSocketAddress());
            assertThat(connection.getLocalAddress()).isEqualTo(peer.socket().getRemoteSocketAddress());
            assertThat(connection.unwrap(org.glassfish.grizzly.Connection.class)).isPresent();
            assertThat(connection.unwrap(String.class)).isEmpty();
            connection.close();
            assertThat(channel.isOpen()).isFalse();
        }
    }

    @Test
    void idleDetachedConnectionsKeepNoHttpRequestOfGrizzlysReachable() throws Exception {
        assertIdleDetachedConnectionsKeepNone("org.glassfish.grizzly.http.HttpServerFilter$ServerHttpRequestImpl");
    }
}

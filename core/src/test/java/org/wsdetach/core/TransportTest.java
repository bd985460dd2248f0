package org.wsdetach.core;

import org.junit.jupiter.api.Test;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;
import static org.assertj.core.api.Assertions.assertThatNullPointerException;

class TransportTest {

    private static final Runnable ON_CLOSE = () -> { };

    @Test
    void aPlainTransportKeepsWhatItIsGiven() throws Exception {
        try (SocketChannel channel = SocketChannel.open()) {
            channel.configureBlocking(false);
            Object nativeConnection = new Object();
            Transport transport = Transport.plain(channel, nativeConnection, ON_CLOSE);
            assertThat(transport.channel).isSameAs(channel);
            assertThat(transport.tls).isNull();
            assertThat(transport.undecrypted).isNull();
            assertThat(transport.nativeConnection).isSameAs(nativeConnection);
            assertThat(transport.onClose).isSameAs(ON_CLOSE);
        }
    }

    @Test
    void aTlsTransportKeepsItsEngineAndItsUndecryptedBytes() throws Exception {
        try (SocketChannel channel = SocketChannel.open()) {
            channel.configureBlocking(false);
            SSLEngine engine = SSLContext.getDefault().createSSLEngine();
            ByteBuffer undecrypted = ByteBuffer.allocate(3);
            Transport transport = Transport.tls(channel, engine, undecrypted, null, ON_CLOSE);
            assertThat(transport.tls).isSameAs(engine);
            assertThat(transport.undecrypted).isSameAs(undecrypted);
            assertThat(transport.nativeConnection).isNull();
        }
    }

    @Test
    void aBlockingChannelIsRejected() throws Exception {
        try (SocketChannel channel = SocketChannel.open()) {
            assertThatIllegalArgumentException().isThrownBy(() -> Transport.plain(channel, null, ON_CLOSE))
                    .withMessage("the channel must be in non-blocking mode");
        }
    }

    @Test
    void nullsAreRejected() throws Exception {
        try (SocketChannel channel = SocketChannel.open()) {
            channel.configureBlocking(false);
            SSLEngine engine = SSLContext.getDefault().createSSLEngine();
            assertThatNullPointerException().isThrownBy(() -> Transport.plain(null, null, ON_CLOSE)).withMessage("channel");
            assertThatNullPointerException().isThrownBy(() -> Transport.plain(channel, null, null)).withMessage("onClose");
            assertThatNullPointerException().isThrownBy(() -> Transport.tls(channel, null, ByteBuffer.allocate(0), null, ON_CLOSE))
                    .withMessage("engine");
            assertThatNullPointerException().isThrownBy(() -> Transport.tls(channel, engine, null, null, ON_CLOSE))
                    .withMessage("undecrypted");
        }
    }
}

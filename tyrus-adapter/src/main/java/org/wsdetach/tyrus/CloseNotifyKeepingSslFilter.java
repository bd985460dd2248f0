package org.wsdetach.tyrus;

import org.glassfish.grizzly.Buffer;
import org.glassfish.grizzly.filterchain.FilterChainContext;
import org.glassfish.grizzly.filterchain.NextAction;
import org.glassfish.grizzly.ssl.SSLBaseFilter;
import org.glassfish.grizzly.ssl.SSLConnectionContext;
import org.glassfish.grizzly.ssl.SSLEngineConfigurator;

import javax.net.ssl.SSLException;

/**
 * Grizzly's server SSL filter, except that the plaintext it decrypts in the same read as the peer's
 * {@code close_notify} goes on up the chain. Grizzly 4.0.2 stops the chain there and drops it, which
 * loses the close frame of a peer that closes TLS right behind it (a detach whose peer half-closes at
 * once) and the bytes that follow it. What ends the connection stays as it is: the end of TCP.
 */
final class CloseNotifyKeepingSslFilter extends SSLBaseFilter {

    CloseNotifyKeepingSslFilter(SSLEngineConfigurator configurator) {
        super(configurator);
    }

    @Override
    protected NextAction unwrapAll(FilterChainContext ctx, SSLConnectionContext sslCtx) throws SSLException {
        NextAction next = super.unwrapAll(ctx, sslCtx);
        if (sslCtx.getSslEngine().isInboundDone() && ctx.getMessage() instanceof Buffer plaintext
                && plaintext.hasRemaining() && next.type() != ctx.getInvokeAction().type()) {
            return ctx.getInvokeAction();
        }
        return next;
    }
}

package org.wsdetach.it;

class JettyPeerDetachTest extends PeerDetachConformance {
    @Override
    protected ServerFixture fixture() {
        return new JettyFixture();
    }
}

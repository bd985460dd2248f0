package org.wsdetach.it;

import org.wsdetach.demo.DemoServer.Container;

/** The demo server's wire protocol on Tyrus (the demo's default container), ws and wss. */
class DemoProtocolTest extends DemoProtocolConformance {

    @Override
    protected Container container() {
        return Container.TYRUS;
    }
}

package org.wsdetach.it;

class TomcatDetachPropertyTest extends DetachPropertyConformance {

    @Override
    protected ServerFixture fixture() {
        return new TomcatFixture();
    }
}

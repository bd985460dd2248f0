package org.wsdetach.jetty;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

class JettyInternalsTest {

    @Test
    void theTlsBuffersTheAdapterTakesAreWhereItExpectsThem() {
        assertThat(JettyInternals.unresolved()).isEmpty();
        assertThatCode(JettyInternals::checkTlsHandOver).doesNotThrowAnyException();
    }
}

package org.wsdetach.it;

import java.util.List;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.stream.Stream;

/**
 * What is logged through {@code java.util.logging} (where Tomcat logs, and where {@code System.Logger} goes by
 * default) at {@code SEVERE}, while it is open: each record as its message, followed by the messages of its
 * exception and the exception's causes.
 */
final class CapturedLog implements AutoCloseable {

    private final Logger root = Logger.getLogger("");
    private final List<List<String>> records = new CopyOnWriteArrayList<>();
    private final Handler handler = new Handler() {
        @Override
        public void publish(LogRecord record) {
            if (record.getLevel().intValue() >= Level.SEVERE.intValue()) {
                records.add(Stream.concat(Stream.of(String.valueOf(record.getMessage())),
                        Stream.iterate(record.getThrown(), Objects::nonNull, Throwable::getCause)
                                .map(Throwable::getMessage)).toList());
            }
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    };

    CapturedLog() {
        root.addHandler(handler);
    }

    /** The records that mention {@code text}, in their message or their exceptions' messages. */
    List<List<String>> mentioning(String text) {
        return records.stream().filter(messages -> messages.stream().anyMatch(m -> m != null && m.contains(text)))
                .toList();
    }

    @Override
    public void close() {
        root.removeHandler(handler);
    }
}

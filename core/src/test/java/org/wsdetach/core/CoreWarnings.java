package org.wsdetach.core;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Formatter;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.logging.SimpleFormatter;

/**
 * What the core logs at {@code WARNING} or above while it is open, through {@code System.Logger}'s default
 * backend, {@code java.util.logging}: each record as its logger, its formatted message and its exception.
 */
final class CoreWarnings implements AutoCloseable {

    private static final Formatter MESSAGES = new SimpleFormatter();

    // Held here: java.util.logging keeps its loggers only weakly, and a new one would have no handler.
    private final Logger logger = Logger.getLogger("org.wsdetach.core");
    private final List<String> records = new CopyOnWriteArrayList<>();
    private final Handler handler = new Handler() {
        @Override
        public void publish(LogRecord record) {
            if (record.getLevel().intValue() >= Level.WARNING.intValue()) {
                records.add(record.getLoggerName() + ": " + MESSAGES.formatMessage(record)
                        + (record.getThrown() == null ? "" : " " + record.getThrown()));
            }
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    };

    CoreWarnings() {
        logger.addHandler(handler);
    }

    List<String> records() {
        return List.copyOf(records);
    }

    @Override
    public void close() {
        logger.removeHandler(handler);
    }
}

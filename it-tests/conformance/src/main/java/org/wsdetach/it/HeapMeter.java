package org.wsdetach.it;

import javax.management.ObjectName;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The heap a leak or a buffer would grow: what is in use after garbage collection. */
final class HeapMeter {

    private HeapMeter() {
    }

    /** Bytes of heap in use after a few collections, until one frees nothing more. */
    static long usedAfterGc() {
        MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
        long used = Long.MAX_VALUE;
        for (int i = 0; i < 5; i++) {
            System.gc();
            long now = memory.getHeapMemoryUsage().getUsed();
            if (now >= used) {
                break;
            }
            used = now;
        }
        return used;
    }

    /** A row of the class histogram: rank, instances, bytes, class name. */
    private static final Pattern HISTOGRAM_ROW = Pattern.compile("\\s*\\d+:\\s+(\\d+)\\s+(\\d+)\\s+(\\S+).*");
    private static final int INSTANCES = 1;
    private static final int BYTES = 2;

    /**
     * The HotSpot class histogram of this JVM, after a full collection (the diagnostic command
     * {@code GC.class_histogram}): the live instances of each class. A leak of one object per operation shows there
     * as a count that grows with the operations, however small the object; the heap's size hides it in its noise.
     * Kept as its text until compared: a parsed baseline would itself be thousands of live objects.
     *
     * @throws UnsupportedOperationException on a JVM without HotSpot's diagnostic commands
     */
    static String classHistogram() {
        try {
            return (String) ManagementFactory.getPlatformMBeanServer().invoke(
                    new ObjectName("com.sun.management:type=DiagnosticCommand"), "gcClassHistogram",
                    new Object[] {new String[0]}, new String[] {String[].class.getName()});
        } catch (Exception e) {
            throw new UnsupportedOperationException("no class histogram in this JVM", e);
        }
    }

    /** How many live instances more each class has in the histogram {@code after} than in {@code before}. */
    static Map<String, Long> growth(String before, String after) {
        return growth(before, after, INSTANCES);
    }

    /** How many bytes more the live instances of each class take in the histogram {@code after}. */
    static Map<String, Long> bytesGrowth(String before, String after) {
        return growth(before, after, BYTES);
    }

    private static Map<String, Long> growth(String before, String after, int column) {
        Map<String, Long> then = perClass(before, column);
        Map<String, Long> grown = new HashMap<>();
        perClass(after, column).forEach((name, count) -> grown.put(name, count - then.getOrDefault(name, 0L)));
        return grown;
    }

    /** Opens one thing to keep, a connection and its peer say, and returns what closes it, in order. */
    interface Opening {
        List<AutoCloseable> open() throws Exception;
    }

    /** What the histogram grew by while {@link #keeping} kept what it opened. */
    record Growth(Map<String, Long> instances, Map<String, Long> bytes) {
        long instancesOf(String className) {
            return instances.getOrDefault(className, 0L);
        }

        long bytesOf(String className) {
            return bytes.getOrDefault(className, 0L);
        }
    }

    /**
     * Opens {@code count} + 1 things with {@code opening} and keeps them all open while it compares the class
     * histogram after the first (which makes what is made only once) with the one after the rest; then closes them.
     */
    static Growth keeping(int count, Opening opening) throws Exception {
        List<AutoCloseable> kept = new ArrayList<>();
        try {
            kept.addAll(opening.open());
            String before = classHistogram();
            for (int i = 0; i < count; i++) {
                kept.addAll(opening.open());
            }
            String after = classHistogram();
            return new Growth(growth(before, after), bytesGrowth(before, after));
        } finally {
            for (AutoCloseable closeable : kept) {
                closeable.close();
            }
        }
    }

    /** The live instances, or their bytes, of each class in a {@link #classHistogram()}. */
    private static Map<String, Long> perClass(String histogram, int column) {
        Map<String, Long> figures = new HashMap<>();
        for (String line : histogram.split("\\R")) {
            Matcher row = HISTOGRAM_ROW.matcher(line);
            if (row.matches()) {
                figures.merge(row.group(3), Long.parseLong(row.group(column)), Long::sum);
            }
        }
        return figures;
    }
}

package org.wsdetach.it;

import javax.management.ObjectName;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.util.HashMap;
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
    private static final Pattern HISTOGRAM_ROW = Pattern.compile("\\s*\\d+:\\s+(\\d+)\\s+\\d+\\s+(\\S+).*");

    /**
     * The live instances of each class, after a full collection: the HotSpot class histogram (the diagnostic
     * command {@code GC.class_histogram}, in this JVM). A leak of one object per operation shows there as a count
     * that grows with the operations, however small the object; the heap's size hides it among its noise.
     *
     * @throws UnsupportedOperationException on a JVM without HotSpot's diagnostic commands
     */
    static Map<String, Long> liveInstances() {
        String histogram;
        try {
            histogram = (String) ManagementFactory.getPlatformMBeanServer().invoke(
                    new ObjectName("com.sun.management:type=DiagnosticCommand"), "gcClassHistogram",
                    new Object[] {new String[0]}, new String[] {String[].class.getName()});
        } catch (Exception e) {
            throw new UnsupportedOperationException("no class histogram in this JVM", e);
        }
        Map<String, Long> instances = new HashMap<>();
        for (String line : histogram.split("\\R")) {
            Matcher row = HISTOGRAM_ROW.matcher(line);
            if (row.matches()) {
                instances.merge(row.group(2), Long.parseLong(row.group(1)), Long::sum);
            }
        }
        return instances;
    }
}

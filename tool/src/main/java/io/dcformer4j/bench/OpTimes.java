package io.dcformer4j.bench;

import io.dcformer4j.api.Backend;
import io.dcformer4j.api.Tensor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Wall-clock time of each backend operation while recording is on: {@link #wrap} returns a backend that forwards
 * every call to the real one and, for the operations of a forward pass, adds the call's time to its row.
 * Operations run on the caller's thread (the backend's workers join inside the call), so a row's time is the
 * time the step waited for that operation. {@code linear} is keyed by its weight's shape and {@code linears} by
 * its weights' shapes, which name the projections. Not thread-safe: one sequence at a time.
 */
public final class OpTimes {
    /** The methods that compute: the rest (allocation, views, bookkeeping) is not timed. */
    private static final Set<String> OPS = Set.of("embedding", "linear", "linears", "rmsNorm", "layerNorm", "rope", "ropeRows", "swiglu",
            "mgate", "gelu", "add", "softmax", "dynamicWeights", "dynamicWeightsFromProjection", "attentionPrefill", "attentionDecode",
            "attentionDecodeBatch", "copy");

    /** One operation's totals. */
    public record Row(String op, long nanos, long calls) {
    }

    private final Map<String, long[]> rows = new LinkedHashMap<>();
    /** Row keys of linear and linears calls, by their weight or weight list (identity). */
    private final Map<Object, String> keys = new IdentityHashMap<>();
    private boolean recording;
    private int depth;

    /** A backend that times {@code real}'s operations into this recorder; closing it closes nothing. */
    public Backend wrap(Backend real) {
        return (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(), new Class<?>[]{Backend.class},
                (proxy, m, args) -> call(real, m, args));
    }

    private Object call(Backend real, Method m, Object[] args) throws Throwable {
        String name = m.getName();
        if (name.equals("close")) {
            return null;
        }
        if (!recording || depth > 0 || !OPS.contains(name)) {
            return invoke(real, m, args);
        }
        String key = switch (name) {
            // by the weight (or the list of weights), which the model passes unchanged from step to step
            case "linear", "linears" -> keys.computeIfAbsent(args[1], w -> name + " " + shapes(w));
            default -> name;
        };
        long t0 = System.nanoTime();
        depth++;   // a default method of the interface calls others: time the outer call only
        try {
            return invoke(real, m, args);
        } finally {
            depth--;
            long[] row = rows.computeIfAbsent(key, k -> new long[2]);
            row[0] += System.nanoTime() - t0;
            row[1]++;
        }
    }

    /** A weight's shape, or the shapes of a list of weights joined by " + ". */
    private static String shapes(Object weights) {
        if (weights instanceof List<?> list) {
            return list.stream().map(w -> ((Tensor) w).shape().toString()).collect(Collectors.joining(" + "));
        }
        return ((Tensor) weights).shape().toString();
    }

    private static Object invoke(Backend real, Method m, Object[] args) throws Throwable {
        try {
            return m.invoke(real, args);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }

    /** Starts (or resumes) adding calls' times. */
    public void start() {
        recording = true;
    }

    /** Stops adding calls' times. */
    public void stop() {
        recording = false;
    }

    /** The rows recorded so far, most time first. */
    public List<Row> rows() {
        List<Row> out = new ArrayList<>();
        rows.forEach((k, v) -> out.add(new Row(k, v[0], v[1])));
        out.sort(Comparator.comparingLong(Row::nanos).reversed().thenComparing(Row::op));
        return out;
    }
}

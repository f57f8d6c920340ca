package io.dcformer4j.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;

/** Typed reads of request fields; every failure is a 400 that names the field. */
final class Fields {
    private Fields() {
    }

    /** The field, or null when it is absent or JSON null. */
    static JsonNode get(ObjectNode body, String name) {
        JsonNode n = body.get(name);
        return n == null || n.isNull() ? null : n;
    }

    static String string(ObjectNode body, String name, boolean required) {
        JsonNode n = get(body, name);
        if (n == null) {
            if (required) {
                throw ApiException.badField(name, "Missing required parameter: '" + name + "'");
            }
            return null;
        }
        if (!n.isTextual()) {
            throw ApiException.badField(name, "'" + name + "' must be a string, got " + kind(n));
        }
        return n.textValue();
    }

    static Integer integer(ObjectNode body, String name, int min, int max) {
        JsonNode n = get(body, name);
        if (n == null) {
            return null;
        }
        if (!n.isIntegralNumber() || !n.canConvertToInt()) {
            throw ApiException.badField(name, "'" + name + "' must be an integer, got " + kind(n));
        }
        int v = n.intValue();
        if (v < min || v > max) {
            throw ApiException.badField(name, "'" + name + "' must be between " + min + " and " + max + ", got " + v);
        }
        return v;
    }

    static Long longValue(ObjectNode body, String name) {
        JsonNode n = get(body, name);
        if (n == null) {
            return null;
        }
        if (!n.isIntegralNumber() || !n.canConvertToLong()) {
            throw ApiException.badField(name, "'" + name + "' must be a 64-bit integer, got " + kind(n));
        }
        return n.longValue();
    }

    static Double number(ObjectNode body, String name, double min, double max, boolean minExclusive) {
        JsonNode n = get(body, name);
        if (n == null) {
            return null;
        }
        if (!n.isNumber()) {
            throw ApiException.badField(name, "'" + name + "' must be a number, got " + kind(n));
        }
        double v = n.doubleValue();
        if (!(minExclusive ? v > min : v >= min) || !(v <= max)) {
            throw ApiException.badField(name, "'" + name + "' must be " + (minExclusive ? "greater than " : "at least ")
                    + min + " and at most " + max + ", got " + v);
        }
        return v;
    }

    static boolean bool(ObjectNode body, String name, boolean defaultValue) {
        JsonNode n = get(body, name);
        if (n == null) {
            return defaultValue;
        }
        if (!n.isBoolean()) {
            throw ApiException.badField(name, "'" + name + "' must be a boolean, got " + kind(n));
        }
        return n.booleanValue();
    }

    /** {@code stop}: a string or an array of at most {@code max} non-empty strings. */
    static List<String> stop(ObjectNode body, int max) {
        JsonNode n = get(body, "stop");
        if (n == null) {
            return List.of();
        }
        List<String> out = new ArrayList<>();
        if (n.isTextual()) {
            out.add(n.textValue());
        } else if (n.isArray()) {
            if (n.size() > max) {
                throw ApiException.badField("stop", "'stop' may hold at most " + max + " strings, got " + n.size());
            }
            for (JsonNode s : n) {
                if (!s.isTextual()) {
                    throw ApiException.badField("stop", "'stop' must be a string or an array of strings, got an array holding "
                            + kind(s));
                }
                out.add(s.textValue());
            }
        } else {
            throw ApiException.badField("stop", "'stop' must be a string or an array of strings, got " + kind(n));
        }
        for (String s : out) {
            if (s.isEmpty()) {
                throw ApiException.badField("stop", "'stop' strings must not be empty");
            }
        }
        return out;
    }

    /** {@code n}: only 1 is supported (one sequence per request). */
    static void requireSingleChoice(ObjectNode body) {
        Integer n = integer(body, "n", 1, Integer.MAX_VALUE);
        if (n != null && n != 1) {
            throw ApiException.badField("n", "'n' must be 1: this server generates one choice per request, got " + n);
        }
        Integer bestOf = integer(body, "best_of", 1, Integer.MAX_VALUE);
        if (bestOf != null && bestOf != 1) {
            throw ApiException.badField("best_of", "'best_of' must be 1, got " + bestOf);
        }
    }

    static String kind(JsonNode n) {
        return switch (n.getNodeType()) {
            case ARRAY -> "an array";
            case OBJECT -> "an object";
            case STRING -> "a string";
            case NUMBER -> "a number";
            case BOOLEAN -> "a boolean";
            default -> n.getNodeType().name().toLowerCase(java.util.Locale.ROOT);
        };
    }
}

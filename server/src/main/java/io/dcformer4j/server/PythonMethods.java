package io.dcformer4j.server;

import java.beans.FeatureDescriptor;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import jinjava.javax.el.ELContext;
import jinjava.javax.el.ELResolver;

/**
 * The Python string (and dict) methods that Hugging Face chat templates call, which jinjava does not know:
 * Jinja evaluates {@code content.startswith('x')} as Python, jinjava as a Java method call. Asked first, it
 * answers calls on a {@code String} named after a Python method below (and {@code dict.get(key, default)}),
 * with Python's meaning; anything else it leaves to jinjava's resolvers. Methods whose Java namesake means
 * something else ({@code split} is a regex split in Java, {@code strip(chars)} does not exist) are answered
 * here too, so that templates get Python's result.
 */
final class PythonMethods extends ELResolver {

    @Override
    public Object invoke(ELContext context, Object base, Object method, Class<?>[] types, Object[] params) {
        Object[] args = params == null ? new Object[0] : params;
        Object result = NONE;
        if (base instanceof String s && method instanceof String name) {
            result = string(s, name, args);
        } else if (base instanceof Map<?, ?> map && "get".equals(method) && args.length == 2) {
            result = map.containsKey(args[0]) ? map.get(args[0]) : args[1];
        }
        if (result == NONE) {
            return null; // not ours: the next resolver answers
        }
        context.setPropertyResolved(true);
        return result;
    }

    private static final Object NONE = new Object();

    private static Object string(String s, String name, Object[] a) {
        return switch (name) {
            case "strip" -> a.length == 0 || a[0] == null ? s.strip() : rstrip(lstrip(s, str(a[0])), str(a[0]));
            case "lstrip" -> a.length == 0 || a[0] == null ? s.stripLeading() : lstrip(s, str(a[0]));
            case "rstrip" -> a.length == 0 || a[0] == null ? s.stripTrailing() : rstrip(s, str(a[0]));
            case "startswith" -> a.length == 1 ? anyOf(a[0], s::startsWith) : NONE;
            case "endswith" -> a.length == 1 ? anyOf(a[0], s::endsWith) : NONE;
            case "upper" -> a.length == 0 ? s.toUpperCase(Locale.ROOT) : NONE;
            case "lower" -> a.length == 0 ? s.toLowerCase(Locale.ROOT) : NONE;
            case "title" -> a.length == 0 ? title(s) : NONE;
            case "capitalize" -> a.length == 0 ? capitalize(s) : NONE;
            case "split" -> split(s, a);
            case "replace" -> a.length == 2 ? s.replace(str(a[0]), str(a[1])) : NONE;
            case "find" -> a.length == 1 ? (Object) (long) s.indexOf(str(a[0])) : NONE;
            case "count" -> a.length == 1 ? (Object) count(s, str(a[0])) : NONE;
            case "join" -> a.length == 1 && a[0] instanceof Collection<?> c ? join(s, c) : NONE;
            default -> NONE;
        };
    }

    private static String str(Object o) {
        return String.valueOf(o);
    }

    /** {@code str.startswith} takes a string or a tuple of them. */
    private static Object anyOf(Object arg, java.util.function.Predicate<String> test) {
        if (arg instanceof Collection<?> c) {
            for (Object o : c) {
                if (test.test(str(o))) {
                    return true;
                }
            }
            return false;
        }
        return test.test(str(arg));
    }

    private static String lstrip(String s, String chars) {
        int i = 0;
        while (i < s.length() && chars.indexOf(s.charAt(i)) >= 0) {
            i++;
        }
        return s.substring(i);
    }

    private static String rstrip(String s, String chars) {
        int i = s.length();
        while (i > 0 && chars.indexOf(s.charAt(i - 1)) >= 0) {
            i--;
        }
        return s.substring(0, i);
    }

    /** Python's {@code split()} (runs of whitespace, no empty pieces) or {@code split(sep[, maxsplit])}. */
    private static Object split(String s, Object[] a) {
        int max = a.length >= 2 && a[1] instanceof Number n ? n.intValue() : -1;
        List<String> out = new ArrayList<>();
        if (a.length == 0 || a[0] == null) {
            String rest = s.stripLeading();
            while (!rest.isEmpty()) {
                if (max >= 0 && out.size() == max) {
                    out.add(rest);
                    return out;
                }
                int end = 0;
                while (end < rest.length() && !Character.isWhitespace(rest.charAt(end))) {
                    end++;
                }
                out.add(rest.substring(0, end));
                rest = rest.substring(end).stripLeading();
            }
            return out;
        }
        String sep = str(a[0]);
        if (sep.isEmpty()) {
            throw new IllegalArgumentException("empty separator");
        }
        int from = 0;
        int at;
        while ((max < 0 || out.size() < max) && (at = s.indexOf(sep, from)) >= 0) {
            out.add(s.substring(from, at));
            from = at + sep.length();
        }
        out.add(s.substring(from));
        return out;
    }

    private static String title(String s) {
        StringBuilder out = new StringBuilder(s.length());
        boolean previousCased = false;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            out.append(previousCased ? Character.toLowerCase(c) : Character.toUpperCase(c));
            previousCased = Character.isLetter(c);
        }
        return out.toString();
    }

    private static String capitalize(String s) {
        return s.isEmpty() ? s : Character.toUpperCase(s.charAt(0)) + s.substring(1).toLowerCase(Locale.ROOT);
    }

    private static long count(String s, String sub) {
        if (sub.isEmpty()) {
            return s.length() + 1L;
        }
        long n = 0;
        for (int at = s.indexOf(sub); at >= 0; at = s.indexOf(sub, at + sub.length())) {
            n++;
        }
        return n;
    }

    private static String join(String sep, Collection<?> parts) {
        StringBuilder out = new StringBuilder();
        boolean first = true;
        for (Object p : parts) {
            if (!first) {
                out.append(sep);
            }
            out.append(p);
            first = false;
        }
        return out.toString();
    }

    @Override
    public Object getValue(ELContext context, Object base, Object property) {
        return null;
    }

    @Override
    public Class<?> getType(ELContext context, Object base, Object property) {
        return null;
    }

    @Override
    public void setValue(ELContext context, Object base, Object property, Object value) {
        // read-only: jinjava's own resolvers handle assignment
    }

    @Override
    public boolean isReadOnly(ELContext context, Object base, Object property) {
        return false;
    }

    @Override
    public Iterator<FeatureDescriptor> getFeatureDescriptors(ELContext context, Object base) {
        return null;
    }

    @Override
    public Class<?> getCommonPropertyType(ELContext context, Object base) {
        return null;
    }
}

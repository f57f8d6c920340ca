package io.dcformer4j.model.checkpoint;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonLocation;
import java.util.regex.Pattern;

/**
 * A JSON parse error in the project's words: where in the file (line, column) and what was wrong, without
 * the parser's internals (feature switches such as {@code JsonReadFeature...} or {@code StreamReadConstraints}
 * method names a user can do nothing with). Callers put the file name in front.
 */
public final class JsonErrors {
    private static final Pattern FROM_INTERNALS = Pattern.compile("\\s*\\(from `[^`]*`\\)");
    private static final Pattern ENABLE_FEATURE = Pattern.compile("[:;,]?\\s*(enable|disable) `[^`]*` to allow.*");
    private static final Pattern CONSTRAINT = Pattern.compile("`?StreamReadConstraints\\.[A-Za-z]+\\(\\)`?");

    private JsonErrors() {
    }

    /** {@code "line L, column C: what"} for a parse error (without a location when the parser had none). */
    public static String describe(JacksonException e) {
        String what = e.getOriginalMessage() == null ? e.getClass().getSimpleName() : e.getOriginalMessage();
        what = what.lines().findFirst().orElse("").strip();
        what = FROM_INTERNALS.matcher(what).replaceAll("");
        what = ENABLE_FEATURE.matcher(what).replaceAll("");
        what = CONSTRAINT.matcher(what).replaceAll("the parser's limit");
        JsonLocation at = e.getLocation();
        if (at == null || at.getLineNr() < 1) {
            return what;
        }
        return "line " + at.getLineNr() + ", column " + at.getColumnNr() + ": " + what;
    }
}

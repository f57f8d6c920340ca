package io.dcformer4j.conformance;

import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.DisplayNameGenerator;

/**
 * Names the suite's groups after the concrete subclass that runs them ("CpuConformanceTest: attention"),
 * so reports of several backends in one build stay distinguishable; test methods keep their names, which
 * start with the operation they check.
 */
public final class TckDisplayNames extends DisplayNameGenerator.Standard {
    @Override
    public String generateDisplayNameForNestedClass(List<Class<?>> enclosingInstanceTypes, Class<?> nestedClass) {
        String group = nestedClass.getSimpleName().toLowerCase(Locale.ROOT);
        return enclosingInstanceTypes.isEmpty() ? group : enclosingInstanceTypes.getLast().getSimpleName() + ": " + group;
    }
}

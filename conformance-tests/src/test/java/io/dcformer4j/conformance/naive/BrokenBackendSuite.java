package io.dcformer4j.conformance.naive;

import io.dcformer4j.api.Backend;
import io.dcformer4j.api.BackendOptions;
import io.dcformer4j.conformance.BackendConformanceSuite;
import io.dcformer4j.conformance.TckParameter;
import io.dcformer4j.conformance.TckParameterResolver;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The suite bound to one {@link BrokenBackends} variant (or to the correct naive backend when the variant
 * is "none"); launched only by {@link BrokenBackendsTest}, and named so that Surefire does not pick it up.
 */
@ExtendWith(TckParameterResolver.class)
public final class BrokenBackendSuite extends BackendConformanceSuite {
    /** Configuration parameter naming the variant. */
    public static final String VARIANT = "dcformer4j.tck.test.variant";

    private final String variant;

    /** Created by JUnit with the variant from the launcher configuration. */
    public BrokenBackendSuite(@TckParameter(VARIANT) String variant) {
        this.variant = variant;
    }

    @Override
    protected Backend openBackend(BackendOptions options) {
        return variant.equals("none") ? new NaiveBackend(options) : BrokenBackends.valueOf(variant).open(options);
    }
}

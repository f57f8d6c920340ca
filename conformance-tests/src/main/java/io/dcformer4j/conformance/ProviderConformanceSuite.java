package io.dcformer4j.conformance;

import io.dcformer4j.api.Backend;
import io.dcformer4j.api.BackendOptions;
import io.dcformer4j.api.Backends;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The suite bound at run time to one provider found by {@link java.util.ServiceLoader}, by name; the
 * {@link ConformanceRunner} launches it once per available provider with the configuration parameter
 * {@value #PROVIDER}.
 */
@ExtendWith(TckParameterResolver.class)
public final class ProviderConformanceSuite extends BackendConformanceSuite {
    /** Configuration parameter naming the provider under test. */
    public static final String PROVIDER = "dcformer4j.tck.provider";

    private final String provider;

    /** Created by JUnit with the provider name from the launcher configuration. */
    public ProviderConformanceSuite(@TckParameter(PROVIDER) String provider) {
        this.provider = provider;
    }

    @Override
    protected Backend openBackend(BackendOptions options) {
        return Backends.open(provider, options);
    }
}

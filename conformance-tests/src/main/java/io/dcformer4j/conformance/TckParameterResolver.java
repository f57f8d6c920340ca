package io.dcformer4j.conformance;

import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolutionException;
import org.junit.jupiter.api.extension.ParameterResolver;

/** Resolves {@link TckParameter} String parameters from the launcher's configuration parameters. */
public final class TckParameterResolver implements ParameterResolver {
    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
        return parameter.isAnnotated(TckParameter.class) && parameter.getParameter().getType() == String.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
        String key = parameter.findAnnotation(TckParameter.class).orElseThrow().value();
        return context.getConfigurationParameter(key).orElseThrow(() -> new ParameterResolutionException(
                "configuration parameter '" + key + "' is not set; run this suite through ConformanceRunner or pass it to the launcher"));
    }
}

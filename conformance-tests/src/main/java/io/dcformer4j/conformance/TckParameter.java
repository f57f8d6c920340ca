package io.dcformer4j.conformance;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks a String constructor parameter of a suite subclass that is filled from a JUnit configuration
 * parameter (for example the provider name the {@link ConformanceRunner} passes), through
 * {@link TckParameterResolver}.
 */
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.PARAMETER)
public @interface TckParameter {
    /** The configuration parameter key. */
    String value();
}

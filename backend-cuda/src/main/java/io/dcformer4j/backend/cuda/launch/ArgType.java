package io.dcformer4j.backend.cuda.launch;

/** The C type of a kernel parameter, as far as marshalling is concerned. */
public enum ArgType {
    /** Any device pointer ({@code const float*}, {@code void*}, ...): 8 bytes. */
    PTR,
    /** {@code int}: 4 bytes. */
    I32,
    /** {@code float}: 4 bytes. */
    F32
}

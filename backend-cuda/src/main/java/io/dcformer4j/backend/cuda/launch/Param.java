package io.dcformer4j.backend.cuda.launch;

/**
 * One parameter of a kernel's C signature.
 *
 * @param name the parameter name in the .cu file
 * @param type its marshalling type
 */
public record Param(String name, ArgType type) {
}

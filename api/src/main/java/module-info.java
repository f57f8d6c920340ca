/**
 * The backend-neutral tensor SPI of dcformer4j: tensors, data types, the {@link io.dcformer4j.api.Backend}
 * operation set and run-time backend discovery through {@link java.util.ServiceLoader}.
 */
module io.dcformer4j.api {
    exports io.dcformer4j.api;
    uses io.dcformer4j.api.BackendProvider;
}

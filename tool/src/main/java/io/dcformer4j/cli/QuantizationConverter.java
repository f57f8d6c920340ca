package io.dcformer4j.cli;

import io.dcformer4j.model.Quantization;
import picocli.CommandLine;

/** Reads {@code --quantize none|q8_0} (any case); another value is a usage error listing the choices. */
final class QuantizationConverter implements CommandLine.ITypeConverter<Quantization> {
    /** The description every command gives the option. */
    static final String DESCRIPTION = "Store the projection weights as: none (as the checkpoint has them, the default) or "
            + "q8_0 (8-bit blocks quantized at load: about half the bytes of BF16; norms, biases, compose weights, "
            + "the embedding table and the output head stay 16-bit). A checkpoint written with convert --quantize q8_0 loads as Q8_0 anyway.";

    @Override
    public Quantization convert(String value) {
        try {
            return Quantization.parse(value);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.TypeConversionException(e.getMessage());
        }
    }
}

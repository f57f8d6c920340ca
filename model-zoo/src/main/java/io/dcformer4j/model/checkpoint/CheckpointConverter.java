package io.dcformer4j.model.checkpoint;

import io.dcformer4j.api.DType;
import io.dcformer4j.model.Quantization;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Converts any checkpoint {@link WeightSource#open} reads (PyTorch {@code .bin}, sharded or not, or
 * safetensors) into one {@code model.safetensors} in the layout of spec §5.5: state_dict names kept verbatim,
 * dtypes as stored, {@code wq}/{@code wk}/{@code wv} fused into {@code wqkv}, and the derived and cache entries
 * dropped by the rules of {@link CheckpointNames} (identity {@code pre_proj.w}/{@code post_proj.w} dropped,
 * non-identity ones kept). Tensors stream from the mapped input to the output file; the configuration and
 * tokenizer files found next to the input are copied beside the output.
 */
public final class CheckpointConverter {

    /** Files copied from the input directory when present. */
    public static final List<String> SIDE_FILES = List.of("config.json", "generation_config.json", "tokenizer.json",
            "tokenizer_config.json", "special_tokens_map.json", "tokenizer.model", "vocab.json", "merges.txt");

    /**
     * What a conversion did.
     *
     * @param nonFinite the first NaN or infinite weight written, when {@code allowNonFinite} let one through
     */
    public record Report(Path output, List<String> written, List<String> dropped, List<String> copied,
                         Optional<FiniteCheck.NonFinite> nonFinite) {
    }

    private CheckpointConverter() {
    }

    /**
     * Converts the checkpoint at {@code in} (a directory or a file) into {@code outDir/model.safetensors},
     * refusing one whose weights hold NaN or infinity.
     *
     * @throws CheckpointException  when the input cannot be read, holds a non-finite weight (named), or the
     *                              output would overwrite an input file
     * @throws UncheckedIOException when writing fails
     */
    public static Report convert(Path in, Path outDir) {
        return convert(in, outDir, false);
    }

    /**
     * Converts as {@link #convert(Path, Path)}; every tensor is scanned for NaN and infinity first (see
     * {@link FiniteCheck}), and the first one found stops the conversion unless {@code allowNonFinite}, in
     * which case it is reported in {@link Report#nonFinite()}.
     */
    public static Report convert(Path in, Path outDir, boolean allowNonFinite) {
        return convert(in, outDir, allowNonFinite, Quantization.NONE);
    }

    /**
     * Converts as {@link #convert(Path, Path, boolean)}, storing the projection weights as {@code quantization}
     * says ({@link Quantization#isQuantizable}: by the reference quantizer, so the file holds the very blocks a
     * quantize-at-load would make). A Q8_0 file's metadata says {@code "quantization": "q8_0"} and the dtype
     * of those tensors is {@code Q8_0} (a dcformer4j extension: other safetensors readers refuse it).
     */
    public static Report convert(Path in, Path outDir, boolean allowNonFinite, Quantization quantization) {
        Path inDir = Files.isDirectory(in) ? in : in.toAbsolutePath().getParent();
        Path output = outDir.resolve("model.safetensors");
        try (WeightSource source = WeightSource.open(in)) {
            for (TensorInfo t : source.tensors().values()) {
                if (sameFile(t.file(), output)) {
                    throw new CheckpointException(output + " is an input of the conversion; choose another output directory");
                }
            }
            List<String> dropped = new ArrayList<>();
            for (TensorInfo t : source.tensors().values()) {
                if (CheckpointNames.hidden(source, t)) {
                    dropped.add(t.name());
                }
            }
            try (WeightSource normalized = CheckpointNames.normalize(new Unclosed(source))) {
                Optional<FiniteCheck.NonFinite> nonFinite = FiniteCheck.firstNonFinite(normalized);
                if (nonFinite.isPresent() && !allowNonFinite) {
                    throw new CheckpointException(source.origin() + ": " + nonFinite.get().describe()
                            + "; a checkpoint with NaN or infinite weights gives non-finite logits, so it is not converted");
                }
                Map<String, String> metadata = new LinkedHashMap<>();
                metadata.put("format", "pt");
                metadata.put("converted_from", in.getFileName() == null ? in.toString() : in.getFileName().toString());
                Files.createDirectories(outDir);
                if (quantization == Quantization.Q8_0) {
                    metadata.put("quantization", quantization.cliName());
                    try (Arena arena = Arena.ofShared()) {
                        List<SafetensorsWriter.Entry> entries = new ArrayList<>();
                        for (TensorInfo t : normalized.tensors().values()) {
                            MemorySegment data = normalized.data(t.name());
                            if (t.dtype().isFloating() && Quantization.isQuantizable(t.name(), t.shape())) {
                                entries.add(new SafetensorsWriter.Entry(t.name(), DType.Q8_0, t.shape(),
                                        Q8Quantizer.quantize(t.name(), t.dtype(), t.shape(), data, arena)));
                            } else {
                                entries.add(new SafetensorsWriter.Entry(t.name(), t.dtype(), t.shape(), data));
                            }
                        }
                        SafetensorsWriter.write(output, entries, metadata);
                    }
                } else {
                    SafetensorsWriter.write(output, normalized, metadata);
                }
                List<String> copied = copySideFiles(inDir, outDir);
                return new Report(output, List.copyOf(normalized.tensors().keySet()), List.copyOf(dropped), copied, nonFinite);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot convert " + in + " to " + output + ": " + e.getMessage(), e);
        }
    }

    private static List<String> copySideFiles(Path inDir, Path outDir) throws IOException {
        List<String> copied = new ArrayList<>();
        for (String name : SIDE_FILES) {
            Path src = inDir.resolve(name);
            Path dst = outDir.resolve(name);
            if (Files.isRegularFile(src) && !sameFile(src, dst)) {
                Files.copy(src, dst, StandardCopyOption.REPLACE_EXISTING);
                copied.add(name);
            }
        }
        return copied;
    }

    private static boolean sameFile(Path a, Path b) {
        try {
            return Files.exists(a) && Files.exists(b) && Files.isSameFile(a, b);
        } catch (IOException e) {
            return false;
        }
    }

    /** Lets the normalised view be closed without closing the source the converter still owns. */
    private record Unclosed(WeightSource delegate) implements WeightSource {
        @Override
        public java.util.SortedMap<String, TensorInfo> tensors() {
            return delegate.tensors();
        }

        @Override
        public java.lang.foreign.MemorySegment data(String name) {
            return delegate.data(name);
        }

        @Override
        public String origin() {
            return delegate.origin();
        }

        @Override
        public void close() {
            // the converter closes the underlying source itself
        }
    }
}

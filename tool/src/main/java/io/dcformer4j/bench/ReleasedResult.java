package io.dcformer4j.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.dcformer4j.api.DType;
import java.util.Locale;

/**
 * What {@link ReleasedBench} measured for one model of a released size.
 *
 * @param name              preset name
 * @param shape             the configuration, in words
 * @param dtype             weight storage type
 * @param backend           backend description
 * @param threads           worker threads
 * @param promptLength      tokens of the timed prompt
 * @param writeSeconds      time to write the random checkpoint, or -1 when an earlier one was reused
 * @param loadSeconds       time from the checkpoint directory to a model ready to run (memory-mapped load)
 * @param firstTokenSeconds time to first token: the prompt's prefill up to the logits of its last position
 * @param decodeTokensPerS  decode tokens/s after the prompt (median step)
 * @param bandwidthGbPerS   streaming read bandwidth measured in the same run (GB/s, 1e9 bytes)
 * @param weightBytes       bytes of all weights
 * @param decodeStepBytes   bytes one decode step must read (weights but the embedding table, plus K/V)
 * @param residentBefore    resident set before the load (bytes), or -1
 * @param peakResident      peak resident set from the load to the end of decoding (bytes), or -1
 */
public record ReleasedResult(String name, String shape, DType dtype, String backend, int threads, int promptLength,
                             double writeSeconds, double loadSeconds, double firstTokenSeconds, double decodeTokensPerS,
                             double bandwidthGbPerS, long weightBytes, long decodeStepBytes, long residentBefore,
                             long peakResident) {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Decode tokens/s the bandwidth allows: every step reads {@link #decodeStepBytes} once. */
    public double decodeFloorTokensPerS() {
        return bandwidthGbPerS * 1e9 / decodeStepBytes;
    }

    /** Decode speed as a fraction of {@link #decodeFloorTokensPerS()}. */
    public double decodeOfFloor() {
        return decodeTokensPerS / decodeFloorTokensPerS();
    }

    /** Peak resident set ÷ weight bytes, or -1 where the peak is unknown. */
    public double peakOverWeights() {
        return peakResident < 0 ? -1 : (double) peakResident / weightBytes;
    }

    /** A human-readable report. */
    public String toTable() {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "%s (%s), %s weights, %s, %d threads%n", name, shape, dtype, backend, threads));
        sb.append(String.format(Locale.ROOT, "  weights                %.2f GB%n", weightBytes / 1e9));
        sb.append(writeSeconds < 0 ? "  random checkpoint      reused\n"
                : String.format(Locale.ROOT, "  random checkpoint      written in %.1f s%n", writeSeconds));
        sb.append(String.format(Locale.ROOT, "  load (mmap)            %.2f s%n", loadSeconds));
        sb.append(String.format(Locale.ROOT, "  time to first token    %.2f s (prompt of %d)%n", firstTokenSeconds, promptLength));
        sb.append(String.format(Locale.ROOT, "  decode                 %.2f tok/s = %.0f %% of the floor %.2f tok/s%n",
                decodeTokensPerS, 100 * decodeOfFloor(), decodeFloorTokensPerS()));
        sb.append(String.format(Locale.ROOT, "    floor: %.2f GB read per step at %.1f GB/s (bandwidth probe, same run)%n",
                decodeStepBytes / 1e9, bandwidthGbPerS));
        sb.append(peakResident < 0 ? "  peak resident          unknown\n"
                : String.format(Locale.ROOT, "  peak resident          %.2f GB = %.2f x the weights (%.2f GB before loading)%n",
                        peakResident / 1e9, peakOverWeights(), residentBefore / 1e9));
        return sb.toString();
    }

    /** One JSON object. */
    public String toJson() {
        ObjectNode o = JSON.createObjectNode();
        o.put("preset", name);
        o.put("shape", shape);
        o.put("dtype", dtype.name());
        o.put("backend", backend);
        o.put("threads", threads);
        o.put("prompt_length", promptLength);
        o.put("weight_bytes", weightBytes);
        if (writeSeconds >= 0) {
            o.put("write_s", writeSeconds);
        }
        o.put("load_s", loadSeconds);
        o.put("time_to_first_token_s", firstTokenSeconds);
        o.put("decode_tokens_per_s", decodeTokensPerS);
        o.put("decode_floor_tokens_per_s", decodeFloorTokensPerS());
        o.put("decode_of_floor", decodeOfFloor());
        o.put("decode_step_bytes", decodeStepBytes);
        o.put("bandwidth_gb_per_s", bandwidthGbPerS);
        if (peakResident >= 0) {
            o.put("peak_resident_bytes", peakResident);
            o.put("peak_resident_over_weights", peakOverWeights());
        }
        return o.toString();
    }
}

package io.dcformer4j.bench;

import java.util.Collections;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * End-to-end speed of one model.
 *
 * @param prefillTokensPerS by prompt length T: T ÷ median seconds of one prefill call
 * @param decodeTokensPerS  by context length: 1 ÷ median seconds of one decode step after that context
 * @param backendBytes      bytes the backend held (caches, activations) at the longest context; both models are
 *                          resident together during a run, so this and the next two figures are those of the pair
 * @param residentBytes     the process's resident set at the longest context (-1 when unknown)
 * @param peakResidentBytes the peak resident set from before the weights were generated to the longest context
 *                          (-1 when unknown; includes transient buffers of prefill)
 */
public record ModelTiming(SortedMap<Integer, Double> prefillTokensPerS, SortedMap<Integer, Double> decodeTokensPerS,
                          long backendBytes, long residentBytes, long peakResidentBytes) {
    /** Freezes the maps. */
    public ModelTiming {
        prefillTokensPerS = Collections.unmodifiableSortedMap(new TreeMap<>(prefillTokensPerS));
        decodeTokensPerS = Collections.unmodifiableSortedMap(new TreeMap<>(decodeTokensPerS));
    }
}

package io.dcformer4j.bench;

import java.nio.file.Path;
import java.util.List;

/**
 * OpenBLAS {@code cblas_sgemm} timed at the same shapes as our F32 {@code linear}, in the same run.
 *
 * @param library the library that was loaded, or {@code null} when none was found
 * @param note    a one-line explanation (where it was found, or why the comparison was skipped)
 * @param blas    OpenBLAS rates (empty when skipped)
 * @param ours    our F32-weight rates at the same shapes (empty when skipped)
 */
public record BlasComparison(Path library, String note, List<GemmResult> blas, List<GemmResult> ours) {
    /** Freezes the lists. */
    public BlasComparison {
        blas = List.copyOf(blas);
        ours = List.copyOf(ours);
    }

    /** A comparison that did not run, with the reason. */
    public static BlasComparison skipped(String reason) {
        return new BlasComparison(null, reason, List.of(), List.of());
    }

    /** Whether OpenBLAS was found and timed. */
    public boolean available() {
        return library != null && !blas.isEmpty();
    }

    /**
     * Our rate as a fraction of OpenBLAS's over all shapes together: OpenBLAS's total time for one product
     * of each shape divided by ours (so shapes weigh by their cost, as in a layer's prefill).
     */
    public double ratio() {
        if (!available()) {
            return Double.NaN;
        }
        return blas.stream().mapToDouble(GemmResult::seconds).sum() / ours.stream().mapToDouble(GemmResult::seconds).sum();
    }
}

package io.dcformer4j.conformance;

import io.dcformer4j.api.Backend;
import io.dcformer4j.api.KvCache;
import io.dcformer4j.api.KvCacheSpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.TreeSet;

/**
 * Chunk plans for long attention runs, and a check that compares a sample of their rows with the oracle.
 * A long run is fed as prefill chunks that stop just short of each interesting cache length and single
 * decodes across it, so a few thousand positions cost a few dozen calls; every decode row and the rows of
 * each prefill chunk where tiles and splits start and end are checked.
 */
final class AttentionPlans {
    private AttentionPlans() {
    }

    /** Cache lengths where tiles, blocks and splits of real backends change: powers of two 16..2048, and 2112 (132 splits of 16). */
    static final int[] BOUNDARIES = {16, 32, 64, 128, 256, 512, 1024, 2048, 2112};

    /** Single-token chunks of length {@code count} after a first chunk of {@code first} rows. */
    static int[] ones(int first, int count) {
        int[] chunks = new int[count + 1];
        Arrays.fill(chunks, 1);
        chunks[0] = first;
        return chunks;
    }

    /**
     * Decodes at positions 0, 1, 2 (a one-token prompt goes straight to decode), then for every boundary B
     * below {@code total}: one prefill chunk up to position B − 3, and decodes at B − 2 .. B + 1 (so the
     * decodes see B − 1 .. B + 2 keys); the rest up to {@code total} as one prefill chunk and two decodes.
     */
    static int[] boundaryPlan(int total, int... boundaries) {
        List<Integer> chunks = new ArrayList<>(List.of(1, 1, 1));
        int done = 3;
        for (int b : boundaries) {
            if (b + 2 > total) {
                break;
            }
            if (b - 2 > done) {
                chunks.add(b - 2 - done);
                done = b - 2;
            }
            while (done < b + 2) {
                chunks.add(1);
                done++;
            }
        }
        if (total - 2 > done) {
            chunks.add(total - 2 - done);
            done = total - 2;
        }
        while (done < total) {
            chunks.add(1);
            done++;
        }
        return chunks.stream().mapToInt(Integer::intValue).toArray();
    }

    /** The plan cut at the chunk that would pass {@code total}, then filled with single decodes up to {@code total}. */
    static int[] withTotal(int[] plan, int total) {
        List<Integer> chunks = new ArrayList<>();
        int done = 0;
        for (int c : plan) {
            if (done + c > total) {
                break;
            }
            chunks.add(c);
            done += c;
        }
        while (done < total) {
            chunks.add(1);
            done++;
        }
        return chunks.stream().mapToInt(Integer::intValue).toArray();
    }

    /** Sum of a plan's chunks. */
    static int length(int[] chunks) {
        return Arrays.stream(chunks).sum();
    }

    /**
     * The rows of a chunk [start, end) checked against the oracle: all of a chunk of up to 40 rows, otherwise
     * the first and last two rows, the rows at the two ends of every 16-row tile among the first and last 64,
     * and rows where a 64-row tile starts or ends.
     */
    static TreeSet<Integer> sampleRows(int start, int end) {
        TreeSet<Integer> rows = new TreeSet<>();
        if (end - start <= 40) {
            for (int p = start; p < end; p++) {
                rows.add(p);
            }
            return rows;
        }
        for (int p : new int[] {start, start + 1, end - 2, end - 1}) {
            rows.add(p);
        }
        for (int p = start; p < end; p++) {
            int m = p - start;
            boolean nearEnds = m < 64 || end - p <= 64;
            if ((nearEnds && (m % 16 == 0 || m % 16 == 15)) || p % 64 == 0 || p % 64 == 63) {
                rows.add(p);
            }
        }
        return rows;
    }

    /**
     * Runs the plan through a new cache of {@code capacity} slots on {@code b} and checks the sampled rows of
     * every call with the oracle; returns every output row.
     */
    static float[] runAndCheck(TckContext tck, Backend b, String what, AttentionCase c, int capacity, int[] chunks,
                               Tolerance tolerance) {
        KvCache cache = tck.own(b.allocateKvCache(new KvCacheSpec(capacity, c.n, c.d, c.rank, c.mode.usesKeySide())));
        return runAndCheck(tck, b, what, c, cache, chunks, tolerance);
    }

    /** As above, through a given empty cache. */
    static float[] runAndCheck(TckContext tck, Backend b, String what, AttentionCase c, KvCache cache, int[] chunks,
                               Tolerance tolerance) {
        float[] out = c.run(tck, b, cache, chunks, true);
        check(what, c, cache.spec().capacity(), chunks, out, tolerance);
        return out;
    }

    /** Checks the sampled rows of a finished run (outputs {@code out} of {@code chunks}) with the oracle. */
    static void check(String what, AttentionCase c, int capacity, int[] chunks, float[] out, Tolerance tolerance) {
        int width = c.n * c.d;
        int start = 0;
        for (int rows : chunks) {
            int end = start + rows;
            String call = rows == 1 ? "attentionDecode at position " + start + " (" + (start + 1) + " keys)"
                    : "attentionPrefill of positions " + start + ".." + (end - 1) + " (" + rows + " rows, " + start + " cached)";
            for (int p : sampleRows(start, end)) {
                Check.close(what + ": " + call + ", row of position " + p + " (cache capacity " + capacity + ", " + c.describe() + ")",
                        new int[] {c.n, c.d}, AttentionCase.slice(out, p, p + 1, width), c.expectedRow(p, rows > 1), tolerance);
            }
            start = end;
        }
    }
}

package io.dcformer4j.conformance.naive;

import io.dcformer4j.api.AttentionSpec;
import io.dcformer4j.api.BackendOptions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Future;
import java.util.function.Function;
import java.util.function.IntConsumer;

/**
 * Variants of {@link NaiveBackend}, each wrong in exactly one way that a real kernel bug produces. The kit
 * must fail every one of them, and name the broken operation in a failing test.
 */
public enum BrokenBackends {
    /** exp(x)/Σexp(x) without subtracting the row maximum: overflows to inf/inf = NaN for logits ≳ 89. */
    SOFTMAX_WITHOUT_MAX("softmax", NoMaxSoftmax::new, "Elementwise"),
    /** A local window that keeps W + 1 keys (t − W .. t): the classic off-by-one of §1.6. */
    WINDOW_OFF_BY_ONE("Window", WindowOffByOne::new, "Attention"),
    /** Post-compose reads the N×N compose matrix transposed (target head where the source head belongs). */
    POST_COMPOSE_HEAD_ORDER("PostCompose", TransposedPostCompose::new, "Attention", "Model"),
    /** float → bf16 truncates instead of rounding to nearest even. */
    BF16_TRUNCATION("Bf16", Bf16Truncation::new, "Storage", "Linear"),
    /** A vectorised dot product whose scalar tail loop is missing: the last (n mod 8) products are dropped. */
    LINEAR_TAIL_SKIPPED("linear", DotWithoutTail::new, "Linear"),
    /** The row split waits for all workers but the last: with 2 workers the caller reads a half-written result. */
    RACE_WITH_TWO_WORKERS("linear", MissingJoin::new, "Linear"),

    // ---- bugs that only model sizes, long contexts, cache life, modes, worker counts, threads or degenerate numbers show

    /** The dot product runs in blocks of 1024 and drops a partial block after the first: only reductions past 1024 not a multiple of it. */
    LONG_REDUCTION_TAIL_DROPPED("linearModelScale", LongReductionTail::new, "ModelScale"),
    /** Table row offsets computed in 32-bit bytes: rows past byte 2³¹ wrap (and fail). */
    TABLE_OFFSET_INT32("embeddingTablePast2GiB", TableOffsetInt32::new, "ModelScale"),
    /** Decode over more than 512 keys splits them in 256s and weights each split by its key count, not its probability mass. */
    DECODE_SPLIT_COMBINE_BY_COUNT("attentionDecode", SplitCombineByCount::new, "LongContext"),
    /** A local layer's decode takes the number of filled ring slots from a high-water mark that reset() does not clear. */
    RESET_KEEPS_HIGH_WATER("attentionCacheReset", ResetKeepsHighWater::new, "CacheLife"),
    /** Cached keys are converted incrementally into a per-backend working copy, assuming the same cache as the last call. */
    INTERLEAVED_CACHES_SHARE_WORKING_COPY("attentionTwoCachesInterleaved", SharedWorkingCopy::new, "CacheLife"),
    /** One logits buffer per backend instead of per call: concurrent calls on one backend overwrite each other's logits. */
    SHARED_SCRATCH_RACE("Concurrent", SharedLogitsBuffer::new, "Concurrency"),
    /** Worker ranges computed with a shift (count·c >> log2 workers): right for 1, 2 and 4 workers only. */
    SHIFT_SPLIT_ODD_WORKERS("AcrossWorkerCounts1To7", ShiftSplit::new, "WorkerCounts"),
    /** BF16 static compose weights decoded as F16 (the dtype switch only knows F32 and F16). */
    BF16_STATIC_WEIGHTS_READ_AS_F16("ModeEveryPath", StaticBf16AsF16::new, "Modes"),
    /** Query-wise chunked prefill applies the key-wise terms: the chunk kernel checks "has dynamic weights", not the mode. */
    QUERY_WISE_CHUNK_APPLIES_KEY_TERMS("attentionQueryWiseModeEveryPath", QueryWiseChunkKeyTerms::new, "Modes"),
    /** RMSNorm divides by sqrt(mean square) + eps instead of sqrt(mean square + eps): invisible unless eps matters. */
    RMS_EPS_OUTSIDE_SQRT("rmsNormDegenerateRows", RmsEpsOutsideSqrt::new, "Numerics"),
    /** LayerNorm without eps: a constant row is 0/0. */
    LAYER_NORM_WITHOUT_EPS("layerNormDegenerateRows", LayerNormWithoutEps::new, "Numerics"),
    /** RMSNorm flushes subnormal inputs to zero (a kernel built with flush-to-zero). */
    RMS_NORM_FLUSHES_SUBNORMALS("rmsNormDegenerateRows", FlushSubnormals::new, "Numerics"),
    /** The output row of a query is accumulated in a buffer of 2560 floats (N·D of 32 × 80): D 96 and 128 with 32 heads wrap. */
    OUTPUT_BUFFER_2560("attentionModelHeadDims", OutputBuffer2560::new, "ModelScale"),
    /** Decode with an empty cache finds no key split to run and leaves the output zero (a one-token prompt). */
    DECODE_AT_POSITION_ZERO_EMPTY("attentionDecodeFromPositionZero", DecodeEmptyCache::new, "LongContext"),
    /** A decode logits buffer of 2048 keys per head: on global layers only the newest 2048 keys are attended. */
    DECODE_KEYS_CAPPED_AT_2048("attentionDecodeFromPositionZeroPastEveryPowerOfTwoGlobal", DecodeCap2048::new, "LongContext"),
    /** Local-window decode sized for windows up to 512: a window of 640 attends only its newest 512 keys. */
    LOCAL_WINDOW_CAPPED_AT_512("Window640", LocalWindowCap512::new, "LongContext"),
    /** Prefill rows past the first 512 of a call take their window start from the row index within their 512-row block. */
    PREFILL_BLOCK_RELATIVE_WINDOW("attentionPrefillOf600Rows", PrefillBlockRelativeWindow::new, "LongContext"),
    /** The RMS over heads of the dynamic weights sums one 16-lane warp: with 32 heads only the first 16 count. */
    HEAD_RMS_OVER_16_LANES("dynamicWeightsReleasedShapes", HeadRmsSixteenLanes::new, "ModelScale"),
    /** Softmax rows past 1024 run as an online softmax that forgets to rescale the running sum when the max grows. */
    ONLINE_SOFTMAX_WITHOUT_RESCALE("softmaxModelScaleRows", OnlineSoftmaxNoRescale::new, "ModelScale");

    private final String brokenOp;
    private final Function<BackendOptions, NaiveBackend> factory;
    private final String[] groups;

    BrokenBackends(String brokenOp, Function<BackendOptions, NaiveBackend> factory, String... groups) {
        this.brokenOp = brokenOp;
        this.factory = factory;
        this.groups = groups;
    }

    /** A fragment that a failing test's name must contain (the suite's test names start with the op). */
    public String brokenOp() {
        return brokenOp;
    }

    /**
     * The suite's groups (nested classes) run against this variant to show it is caught, or none for the whole
     * suite: a subset failing means the whole kit fails, and it keeps the build short.
     */
    public String[] groups() {
        return groups.clone();
    }

    /** Opens this broken variant. */
    public NaiveBackend open(BackendOptions options) {
        return factory.apply(options);
    }

    private static final class NoMaxSoftmax extends NaiveBackend {
        NoMaxSoftmax(BackendOptions options) {
            super(options);
        }

        @Override
        protected void softmaxInPlace(float[] row, int from, int n) {
            float sum = 0f;
            for (int i = 0; i < n; i++) {
                row[from + i] = (float) Math.exp(row[from + i]);
                sum += row[from + i];
            }
            for (int i = 0; i < n; i++) {
                row[from + i] /= sum;
            }
        }
    }

    private static final class WindowOffByOne extends NaiveBackend {
        WindowOffByOne(BackendOptions options) {
            super(options);
        }

        @Override
        protected int firstVisibleKey(AttentionSpec spec, int t, boolean multiTokenCall) {
            return spec.window() == 0 ? 0 : Math.max(0, t - spec.window());
        }
    }

    private static final class TransposedPostCompose extends NaiveBackend {
        TransposedPostCompose(BackendOptions options) {
            super(options);
        }

        @Override
        protected void postCompose(float[] alpha, float[] matrix, float[] out, int n) {
            for (int m = 0; m < n; m++) {
                float sum = 0f;
                for (int src = 0; src < n; src++) {
                    sum += alpha[src] * matrix[m * n + src];
                }
                out[m] = sum;
            }
        }
    }

    private static final class Bf16Truncation extends NaiveBackend {
        Bf16Truncation(BackendOptions options) {
            super(options);
        }

        @Override
        protected short floatToBf16(float f) {
            return (short) (Float.floatToRawIntBits(f) >>> 16);
        }
    }

    private static final class DotWithoutTail extends NaiveBackend {
        private static final int LANES = 8;

        DotWithoutTail(BackendOptions options) {
            super(options);
        }

        @Override
        protected float dot(float[] a, int aOffset, float[] b, int bOffset, int n) {
            float[] acc = new float[LANES];
            int i = 0;
            for (; i + LANES <= n; i += LANES) {
                for (int lane = 0; lane < LANES; lane++) {
                    acc[lane] += a[aOffset + i + lane] * b[bOffset + i + lane];
                }
            }
            float sum = 0f;
            for (float lane : acc) {
                sum += lane;
            }
            return sum;
        }
    }

    private static final class MissingJoin extends NaiveBackend {
        MissingJoin(BackendOptions options) {
            super(options);
        }

        @Override
        protected void parallelFor(int count, IntConsumer body) {
            int chunks = Math.min(options().resolvedThreads(), count);
            if (chunks <= 1) {
                super.parallelFor(count, body);
                return;
            }
            List<Future<?>> futures = new ArrayList<>();
            List<Runnable> tasks = new ArrayList<>();
            for (int c = 1; c < chunks; c++) {
                int from = (int) ((long) count * c / chunks);
                int to = (int) ((long) count * (c + 1) / chunks);
                tasks.add(() -> {
                    for (int i = from; i < to; i++) {
                        body.accept(i);
                    }
                });
            }
            for (Runnable task : tasks) {
                futures.add(submit(task));
            }
            for (int i = 0; i < count / chunks; i++) {
                body.accept(i);
            }
            awaitAll(futures.subList(0, futures.size() - 1));
        }
    }

    private static final class LongReductionTail extends NaiveBackend {
        LongReductionTail(BackendOptions options) {
            super(options);
        }

        @Override
        protected float dot(float[] a, int aOffset, float[] b, int bOffset, int n) {
            if (n <= 1024) {
                return super.dot(a, aOffset, b, bOffset, n);
            }
            float sum = 0f;
            for (int block = 0; block + 1024 <= n; block += 1024) {
                sum += super.dot(a, aOffset + block, b, bOffset + block, 1024);
            }
            return sum;
        }
    }

    private static final class TableOffsetInt32 extends NaiveBackend {
        TableOffsetInt32(BackendOptions options) {
            super(options);
        }

        @Override
        protected long tableRowStart(int row, int width, int byteSize) {
            int byteOffset = row * width * byteSize;
            return byteOffset / byteSize;
        }
    }

    private static final class SplitCombineByCount extends NaiveBackend {
        SplitCombineByCount(BackendOptions options) {
            super(options);
        }

        @Override
        protected void attentionSoftmax(float[] logits, int from, int keys, boolean decode) {
            if (!decode || keys <= 512) {
                super.attentionSoftmax(logits, from, keys, decode);
                return;
            }
            for (int split = 0; split < keys; split += 256) {
                int count = Math.min(256, keys - split);
                softmaxInPlace(logits, from + split, count);
                for (int i = 0; i < count; i++) {
                    logits[from + split + i] *= (float) count / keys;
                }
            }
        }
    }

    private static final class ResetKeepsHighWater extends NaiveBackend {
        ResetKeepsHighWater(BackendOptions options) {
            super(options);
        }

        @Override
        protected int firstKeyOfRow(AttentionSpec spec, int position, boolean multiTokenCall, int rowInCall, NaiveKvCache cache) {
            if (!spec.isLocal() || multiTokenCall) {
                return super.firstKeyOfRow(spec, position, multiTokenCall, rowInCall, cache);
            }
            int filled = Math.min(spec.window() - 1, cache.highWater); // the ring "has wrapped" since before reset()
            return position - filled; // reads back over slots of the old sequence when position < filled
        }
    }

    private static final class SharedWorkingCopy extends NaiveBackend {
        private float[] keys = new float[0];
        private float[] values = new float[0];
        private int converted;

        SharedWorkingCopy(BackendOptions options) {
            super(options);
        }

        @Override
        protected synchronized float[][] cachedKeysAndValues(NaiveKvCache cache, int cachedLength) {
            if (keys.length < cache.keys.length) {
                keys = new float[cache.keys.length]; // sized for the largest cache seen
                values = new float[cache.values.length];
                converted = 0;
            }
            if (cachedLength < converted) {
                converted = 0; // a new sequence
            }
            int width = cache.spec().numHeads() * cache.spec().headDim();
            int capacity = cache.spec().capacity();
            for (int p = Math.max(converted, cachedLength - capacity); p < cachedLength; p++) {
                int slot = p % capacity;
                System.arraycopy(cache.keys, slot * width, keys, slot * width, width);
                System.arraycopy(cache.values, slot * width, values, slot * width, width);
            }
            converted = cachedLength;
            return new float[][] {keys, values};
        }
    }

    private static final class SharedLogitsBuffer extends NaiveBackend {
        private float[] buffer = new float[0];

        SharedLogitsBuffer(BackendOptions options) {
            super(options);
        }

        @Override
        protected float[] logitsBuffer(int size) {
            if (buffer.length < size) {
                buffer = new float[size];
            }
            return buffer;
        }
    }

    private static final class ShiftSplit extends NaiveBackend {
        ShiftSplit(BackendOptions options) {
            super(options);
        }

        @Override
        protected void parallelFor(int count, IntConsumer body) {
            int chunks = Math.min(options().resolvedThreads(), count);
            if (chunks <= 1) {
                super.parallelFor(count, body);
                return;
            }
            int shift = 31 - Integer.numberOfLeadingZeros(chunks);
            List<Future<?>> futures = new ArrayList<>();
            for (int c = 1; c < chunks; c++) {
                int from = (int) (((long) count * c) >> shift);
                int to = (int) (((long) count * (c + 1)) >> shift);
                futures.add(submit(() -> {
                    for (int i = from; i < to; i++) {
                        body.accept(i);
                    }
                }));
            }
            int firstEnd = (int) ((long) count >> shift);
            for (int i = 0; i < firstEnd; i++) {
                body.accept(i);
            }
            awaitAll(futures);
        }
    }

    private static final class StaticBf16AsF16 extends NaiveBackend {
        StaticBf16AsF16(BackendOptions options) {
            super(options);
        }

        @Override
        protected float[] staticWeights(NaiveTensor weight) {
            if (weight.dtype() != io.dcformer4j.api.DType.BF16) {
                return super.staticWeights(weight);
            }
            float[] out = new float[weight.numel()];
            for (int i = 0; i < out.length; i++) {
                out[i] = io.dcformer4j.api.Numerics.f16ToFloat(weight.storage.halves[weight.offset + i]);
            }
            return out;
        }
    }

    private static final class QueryWiseChunkKeyTerms extends NaiveBackend {
        QueryWiseChunkKeyTerms(BackendOptions options) {
            super(options);
        }

        @Override
        protected boolean keyWiseTerms(AttentionSpec spec, boolean multi, int cachedBefore) {
            return super.keyWiseTerms(spec, multi, cachedBefore)
                    || (spec.mode() == io.dcformer4j.api.AttentionMode.QUERY_WISE && multi && cachedBefore > 0);
        }
    }

    private static final class RmsEpsOutsideSqrt extends NaiveBackend {
        RmsEpsOutsideSqrt(BackendOptions options) {
            super(options);
        }

        @Override
        protected float rmsInverse(float sumSquares, int n, float eps) {
            return (float) (1.0 / (Math.sqrt(sumSquares / n) + eps));
        }
    }

    private static final class LayerNormWithoutEps extends NaiveBackend {
        LayerNormWithoutEps(BackendOptions options) {
            super(options);
        }

        @Override
        protected float layerNormInverse(float variance, float eps) {
            return (float) (1.0 / Math.sqrt(variance));
        }
    }

    private static final class FlushSubnormals extends NaiveBackend {
        FlushSubnormals(BackendOptions options) {
            super(options);
        }

        @Override
        protected float rmsInput(float x) {
            return Math.abs(x) < Float.MIN_NORMAL ? 0f : x;
        }
    }

    private static final class OutputBuffer2560 extends NaiveBackend {
        OutputBuffer2560(BackendOptions options) {
            super(options);
        }

        @Override
        protected int outputSlot(int i, int width) {
            return i % 2560;
        }
    }

    private static final class DecodeEmptyCache extends NaiveBackend {
        DecodeEmptyCache(BackendOptions options) {
            super(options);
        }

        @Override
        protected boolean decodeAttends(int cachedKeys) {
            return cachedKeys > 0;
        }
    }

    private static final class DecodeCap2048 extends NaiveBackend {
        DecodeCap2048(BackendOptions options) {
            super(options);
        }

        @Override
        protected int firstKeyOfRow(AttentionSpec spec, int position, boolean multiTokenCall, int rowInCall, NaiveKvCache cache) {
            int first = super.firstKeyOfRow(spec, position, multiTokenCall, rowInCall, cache);
            return multiTokenCall || spec.isLocal() ? first : Math.max(first, position + 1 - 2048);
        }
    }

    private static final class LocalWindowCap512 extends NaiveBackend {
        LocalWindowCap512(BackendOptions options) {
            super(options);
        }

        @Override
        protected int firstKeyOfRow(AttentionSpec spec, int position, boolean multiTokenCall, int rowInCall, NaiveKvCache cache) {
            int first = super.firstKeyOfRow(spec, position, multiTokenCall, rowInCall, cache);
            return multiTokenCall || !spec.isLocal() ? first : Math.max(first, position + 1 - 512);
        }
    }

    private static final class PrefillBlockRelativeWindow extends NaiveBackend {
        PrefillBlockRelativeWindow(BackendOptions options) {
            super(options);
        }

        @Override
        protected int firstKeyOfRow(AttentionSpec spec, int position, boolean multiTokenCall, int rowInCall, NaiveKvCache cache) {
            if (rowInCall < 512) {
                return super.firstKeyOfRow(spec, position, multiTokenCall, rowInCall, cache);
            }
            return super.firstKeyOfRow(spec, position - 512, multiTokenCall, rowInCall, cache);
        }
    }

    private static final class HeadRmsSixteenLanes extends NaiveBackend {
        HeadRmsSixteenLanes(BackendOptions options) {
            super(options);
        }

        @Override
        protected float headRmsInverse(float[] r, int offset, int n) {
            int lanes = Math.min(n, 16);
            float ms = 0f;
            for (int h = 0; h < lanes; h++) {
                ms += r[offset + h] * r[offset + h];
            }
            return (float) (1.0 / Math.sqrt(ms / n + 1e-6));
        }
    }

    private static final class OnlineSoftmaxNoRescale extends NaiveBackend {
        OnlineSoftmaxNoRescale(BackendOptions options) {
            super(options);
        }

        @Override
        protected void softmaxInPlace(float[] row, int from, int n) {
            if (n <= 1024) {
                super.softmaxInPlace(row, from, n);
                return;
            }
            float max = Float.NEGATIVE_INFINITY;
            float sum = 0f;
            for (int block = 0; block < n; block += 1024) {
                int end = Math.min(n, block + 1024);
                for (int i = block; i < end; i++) {
                    max = Math.max(max, row[from + i]);
                }
                for (int i = block; i < end; i++) {
                    sum += (float) Math.exp(row[from + i] - max); // the earlier blocks' sum is not rescaled
                }
            }
            for (int i = 0; i < n; i++) {
                row[from + i] = (float) Math.exp(row[from + i] - max) / sum;
            }
        }
    }
}

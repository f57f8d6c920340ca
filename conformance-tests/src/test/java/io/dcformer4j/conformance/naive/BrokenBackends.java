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
    SOFTMAX_WITHOUT_MAX("softmax", NoMaxSoftmax::new),
    /** A local window that keeps W + 1 keys (t − W .. t): the classic off-by-one of §1.6. */
    WINDOW_OFF_BY_ONE("Window", WindowOffByOne::new),
    /** Post-compose reads the N×N compose matrix transposed (target head where the source head belongs). */
    POST_COMPOSE_HEAD_ORDER("PostCompose", TransposedPostCompose::new),
    /** float → bf16 truncates instead of rounding to nearest even. */
    BF16_TRUNCATION("Bf16", Bf16Truncation::new),
    /** A vectorised dot product whose scalar tail loop is missing: the last (n mod 8) products are dropped. */
    LINEAR_TAIL_SKIPPED("linear", DotWithoutTail::new),
    /** The row split waits for all workers but the last: with 2 workers the caller reads a half-written result. */
    RACE_WITH_TWO_WORKERS("linear", MissingJoin::new);

    private final String brokenOp;
    private final Function<BackendOptions, NaiveBackend> factory;

    BrokenBackends(String brokenOp, Function<BackendOptions, NaiveBackend> factory) {
        this.brokenOp = brokenOp;
        this.factory = factory;
    }

    /** A fragment that a failing test's name must contain (the suite's test names start with the op). */
    public String brokenOp() {
        return brokenOp;
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
}

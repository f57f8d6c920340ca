package io.dcformer4j.conformance;

import io.dcformer4j.api.Backend;
import io.dcformer4j.api.BackendOptions;
import java.lang.reflect.Method;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayNameGeneration;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The backend conformance kit. A backend certifies itself with one subclass that says how to open it:
 *
 * <pre>{@code
 * class MyBackendConformanceTest extends BackendConformanceSuite {
 *     @Override
 *     protected Backend openBackend(BackendOptions options) {
 *         return new MyBackendProvider().open(options);
 *     }
 * }
 * }</pre>
 *
 * Every test opens fresh backends (two workers unless the test compares worker counts), draws fresh random
 * inputs from the run's seed (printed with every failure, replayed with {@code -Ddcformer4j.tck.seed=...}),
 * compares with the float64 {@link Oracle} and {@link OracleAttention} within {@link Tolerances}, closes
 * everything it allocated and checks that the backend's live tensor count is back to zero. Test method names
 * start with the operation they check.
 */
@ExtendWith(TckSeed.class)
@DisplayNameGeneration(TckDisplayNames.class)
public abstract class BackendConformanceSuite {
    private TckContext tck;

    /**
     * Opens a new instance of the backend under test. Called several times per test (a second instance, or
     * another worker count), and 1,000 times by the leak check.
     */
    protected abstract Backend openBackend(BackendOptions options);

    @BeforeEach
    final void openTckContext(TestInfo info) {
        String name = info.getTestMethod().map(Method::getName).orElse(info.getDisplayName());
        tck = new TckContext(this::openBackend, TckSeed.random(name));
    }

    @AfterEach
    final void closeTckContext() {
        TckContext t = tck;
        tck = null;
        if (t != null) {
            t.close();
        }
    }

    final TckContext context() {
        if (tck == null) {
            throw new IllegalStateException("the TCK context is only available while a test runs");
        }
        return tck;
    }

    /** Host copies, rounding to BF16/F16, raw weight bytes, views, slices, copies. */
    @Nested
    class Storage extends StorageChecks {
        @Override
        TckContext tck() {
            return context();
        }
    }

    /** add, swiglu, gelu, softmax, mgate. */
    @Nested
    class Elementwise extends ElementwiseChecks {
        @Override
        TckContext tck() {
            return context();
        }
    }

    /** linear with F32/BF16/F16 weights, and embedding. */
    @Nested
    class Linear extends LinearChecks {
        @Override
        TckContext tck() {
            return context();
        }
    }

    /** rmsNorm, layerNorm, rope. */
    @Nested
    class Norms extends NormChecks {
        @Override
        TckContext tck() {
            return context();
        }
    }

    /** The DCMHA dynamic weights. */
    @Nested
    class DynamicWeights extends DynamicWeightChecks {
        @Override
        TckContext tck() {
            return context();
        }
    }

    /** Fused attention against the unfused oracle. */
    @Nested
    class Attention extends AttentionChecks {
        @Override
        TckContext tck() {
            return context();
        }
    }

    /** Batched decode: ropeRows and attentionDecodeBatch equal each sequence's own ops. */
    @Nested
    class BatchedDecode extends BatchedDecodeChecks {
        @Override
        TckContext tck() {
            return context();
        }
    }

    /** The official reference's golden logits through the model on this backend. */
    @Nested
    class Model extends ModelChecks {
        @Override
        TckContext tck() {
            return context();
        }
    }

    /** Closing, mixing backends, leaks. */
    @Nested
    class Lifecycle extends LifecycleChecks {
        @Override
        TckContext tck() {
            return context();
        }
    }
}

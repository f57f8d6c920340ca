package io.dcformer4j.conformance;

import io.dcformer4j.api.Backend;
import io.dcformer4j.api.BackendOptions;
import java.lang.reflect.Method;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.ClassOrderer;
import org.junit.jupiter.api.DisplayNameGeneration;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.TestClassOrder;
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
 * start with the operation they check. Groups run most specific first: single ops on small shapes, then at
 * model scale, long contexts, cache life, modes, worker counts, concurrency and degenerate numerics, then the
 * whole model, so the first failure usually names the broken op.
 */
@ExtendWith(TckSeed.class)
@TestClassOrder(ClassOrderer.OrderAnnotation.class)
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
    @Order(10)
    class Storage extends StorageChecks {
        @Override
        TckContext tck() {
            return context();
        }
    }

    /** add, swiglu, gelu, softmax, mgate. */
    @Nested
    @Order(20)
    class Elementwise extends ElementwiseChecks {
        @Override
        TckContext tck() {
            return context();
        }
    }

    /** linear with every weight dtype, linears (several weights of one input), and embedding. */
    @Nested
    @Order(30)
    class Linear extends LinearChecks {
        @Override
        TckContext tck() {
            return context();
        }
    }

    /** rmsNorm, layerNorm, rope. */
    @Nested
    @Order(40)
    class Norms extends NormChecks {
        @Override
        TckContext tck() {
            return context();
        }
    }

    /** The DCMHA dynamic weights. */
    @Nested
    @Order(50)
    class DynamicWeights extends DynamicWeightChecks {
        @Override
        TckContext tck() {
            return context();
        }
    }

    /** Fused attention against the unfused oracle. */
    @Nested
    @Order(60)
    class Attention extends AttentionChecks {
        @Override
        TckContext tck() {
            return context();
        }
    }

    /** Linear, norms, elementwise rows, RoPE, dynamic weights and attention at released model shapes; tables past 2 GiB. */
    @Nested
    @Order(70)
    class ModelScale extends ModelScaleChecks {
        @Override
        TckContext tck() {
            return context();
        }
    }

    /** Attention across every power-of-two cache length past 2048, long prefills, split decodes. */
    @Nested
    @Order(80)
    class LongContext extends LongContextChecks {
        @Override
        TckContext tck() {
            return context();
        }
    }

    /** Caches reset to a shorter sequence, and two caches interleaved on one backend. */
    @Nested
    @Order(90)
    class CacheLife extends CacheLifeChecks {
        @Override
        TckContext tck() {
            return context();
        }
    }

    /** Every attention mode in every path, without and with static weights in F32, BF16 and F16. */
    @Nested
    @Order(100)
    class Modes extends ModeChecks {
        @Override
        TckContext tck() {
            return context();
        }
    }

    /** 1, 2, 3, 4 and 7 workers agree with the oracle and with one worker. */
    @Nested
    @Order(110)
    class WorkerCounts extends WorkerCountChecks {
        @Override
        TckContext tck() {
            return context();
        }
    }

    /** Several threads, each with its own cache and tensors, on one backend: each equals its solo run. */
    @Nested
    @Order(120)
    class Concurrency extends ConcurrencyChecks {
        @Override
        TckContext tck() {
            return context();
        }
    }

    /** Tiny, subnormal, zero, constant and negative-zero rows, and very large inputs. */
    @Nested
    @Order(130)
    class Numerics extends NumericsChecks {
        @Override
        TckContext tck() {
            return context();
        }
    }

    /** Batched decode: ropeRows and attentionDecodeBatch equal each sequence's own ops. */
    @Nested
    @Order(135)
    class BatchedDecode extends BatchedDecodeChecks {
        @Override
        TckContext tck() {
            return context();
        }
    }

    /** The official reference's golden logits through the model on this backend. */
    @Nested
    @Order(200)
    class Model extends ModelChecks {
        @Override
        TckContext tck() {
            return context();
        }
    }

    /** Argument rules: the exception type and a message naming the operation, the argument and the sizes. */
    @Nested
    @Order(65)
    class Arguments extends ArgumentChecks {
        @Override
        TckContext tck() {
            return context();
        }
    }

    /** Closing, mixing backends, leaks. */
    @Nested
    @Order(140)
    class Lifecycle extends LifecycleChecks {
        @Override
        TckContext tck() {
            return context();
        }
    }
}

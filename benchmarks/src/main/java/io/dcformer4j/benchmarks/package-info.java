/**
 * JMH benchmarks of the CPU backend's kernels (GEMV, GEMM, fused attention, norms) and of end-to-end prefill
 * and decode on the {@code small} preset with random weights. Build {@code benchmarks/target/benchmarks.jar}
 * with {@code ./mvnw -pl benchmarks -am package -DskipTests} and run it with {@code java -jar}; see
 * {@code docs/performance.md}.
 */
package io.dcformer4j.benchmarks;

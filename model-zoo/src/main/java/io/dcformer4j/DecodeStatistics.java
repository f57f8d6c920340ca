package io.dcformer4j;

/**
 * How much the batch scheduler of a {@link DCFormer} has shared: the batched decode steps it ran since the model
 * was loaded and the sequence rows they carried. {@code rows / steps} is the mean batch of a step; both stay
 * zero while batching is off ({@link EngineOptions}), when every generation steps alone.
 *
 * @param steps decode steps run by the scheduler
 * @param rows  sequence rows those steps carried (one per generating sequence in the step)
 */
public record DecodeStatistics(long steps, long rows) {

    /** The steps and rows since {@code earlier}, a reading of the same model. */
    public DecodeStatistics since(DecodeStatistics earlier) {
        return new DecodeStatistics(steps - earlier.steps, rows - earlier.rows);
    }

    /** Mean rows per step, or 0 before the first step. */
    public double meanRows() {
        return steps == 0 ? 0 : (double) rows / steps;
    }
}

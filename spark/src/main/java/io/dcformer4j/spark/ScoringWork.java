package io.dcformer4j.spark;

import io.dcformer4j.DCFormer;
import io.dcformer4j.eval.TextScore;
import io.dcformer4j.eval.TextScorer;
import java.io.Serial;

/** The scorer's per-partition work: {@link TextScorer} on the executor's shared model (thread-safe, no state). */
final class ScoringWork implements PartitionWork {
    @Serial
    private static final long serialVersionUID = 1L;
    private final ModelSpec spec;
    private final HadoopConf conf;
    private final boolean answers;
    private final int contextSize;

    ScoringWork(ModelSpec spec, HadoopConf conf, boolean answers, int contextSize) {
        this.spec = spec;
        this.conf = conf;
        this.answers = answers;
        this.contextSize = contextSize;
    }

    @Override
    public RowFunction open() {
        DCFormer model = ExecutorModels.get(spec, conf == null ? null : conf.get());
        int context = Contexts.resolve(contextSize, model);
        TextScorer scorer = new TextScorer(model, context);
        return new RowFunction() {
            @Override
            public Object[] apply(String text) {
                TextScore s = scorer.score(text, answers);
                if (!answers) {
                    return new Object[] {s.logProb(), s.scoredTokens(), s.perplexity()};
                }
                Double accuracy = s.answerSpans() == 0 ? null : s.answerAccuracy();
                return new Object[] {s.logProb(), s.scoredTokens(), s.perplexity(), s.answerSpans(), s.answersCorrect(),
                        accuracy};
            }

            @Override
            public void close() {
                // the scorer holds no sessions between rows
            }
        };
    }
}

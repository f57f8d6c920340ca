package io.dcformer4j.spark;

import java.util.ArrayList;
import java.util.List;
import org.apache.spark.ml.param.BooleanParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.util.DefaultParamsReader;
import org.apache.spark.ml.util.Identifiable;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;

/**
 * Spark ML transformer: a column of texts to their teacher-forced scores, one forward pass per row on a
 * dcformer4j model opened once per executor.
 *
 * <ul>
 *   <li>{@code logProbCol} (double): the sum of the natural-log probabilities of tokens 1..T-1, each given
 *       the tokens before it (no BOS is added, so token 0 is not scored);</li>
 *   <li>{@code tokenCountCol} (int): T-1, the number of scored tokens;</li>
 *   <li>{@code perplexityCol} (double): {@code exp(-logProb / tokenCount)};</li>
 *   <li>with {@code scoreAnswers}: the {@code "[ "} / {@code " ]"} markers are removed before tokenizing and
 *       {@code answerSpansCol}, {@code answersCorrectCol} and {@code answerAccuracyCol} give the answer-span
 *       accuracy of the synthetic compositional evaluation (spec §8) per row, exactly as
 *       {@code dcformer4j eval-synthetic} counts it ({@link io.dcformer4j.eval.BracketedAnswers}); the accuracy is
 *       null for a text without answers. Summing spans and correct answers per task gives that command's table.</li>
 * </ul>
 *
 * <p>A text that is null, not valid UTF-8 (binary input), shorter than 2 tokens or longer than
 * {@code contextSize} gets nulls and a reason in {@code errorCol}.
 */
public final class DCFormerScorer extends DCFormerTransformer<DCFormerScorer> {
    private static final long serialVersionUID = 1L;
    private final Param<String> logProbCol;
    private final Param<String> tokenCountCol;
    private final Param<String> perplexityCol;
    private final BooleanParam scoreAnswers;
    private final Param<String> answerSpansCol;
    private final Param<String> answersCorrectCol;
    private final Param<String> answerAccuracyCol;

    /** A scorer with default params (input {@code text}, no answer scoring). */
    public DCFormerScorer() {
        this(Identifiable.randomUID("dcformerScorer"));
    }

    /** A scorer with the given uid (used when Spark copies or loads one). */
    @SuppressWarnings("this-escape")
    public DCFormerScorer(String uid) {
        super(uid, "text", "scoreError");
        logProbCol = new Param<>(this, "logProbCol", "output column: sum of token log-probabilities (natural log)");
        tokenCountCol = new Param<>(this, "tokenCountCol", "output column: number of scored tokens (T-1)");
        perplexityCol = new Param<>(this, "perplexityCol", "output column: exp(-logProb / tokenCount)");
        scoreAnswers = new BooleanParam(this, "scoreAnswers", "remove [ ] markers and score the bracketed answer "
                + "spans (spec §8)");
        answerSpansCol = new Param<>(this, "answerSpansCol", "output column: number of bracketed answers");
        answersCorrectCol = new Param<>(this, "answersCorrectCol", "output column: answers predicted exactly");
        answerAccuracyCol = new Param<>(this, "answerAccuracyCol", "output column: answersCorrect / answerSpans");
        setDefault(logProbCol, "logProb");
        setDefault(tokenCountCol, "tokenCount");
        setDefault(perplexityCol, "perplexity");
        setDefault(scoreAnswers, false);
        setDefault(answerSpansCol, "answerSpans");
        setDefault(answersCorrectCol, "answersCorrect");
        setDefault(answerAccuracyCol, "answerAccuracy");
    }

    /** Reads a scorer saved with {@code write().save(path)}. */
    public static MLReader<DCFormerScorer> read() {
        return new DefaultParamsReader<>();
    }

    /** Loads a scorer saved with {@code save(path)}. */
    public static DCFormerScorer load(String path) {
        return read().load(path);
    }

    /** The log-probability column. */
    public Param<String> logProbCol() {
        return logProbCol;
    }

    /** The token-count column. */
    public Param<String> tokenCountCol() {
        return tokenCountCol;
    }

    /** The perplexity column. */
    public Param<String> perplexityCol() {
        return perplexityCol;
    }

    /** Whether bracketed answers are scored. */
    public BooleanParam scoreAnswers() {
        return scoreAnswers;
    }

    /** The answer-count column. */
    public Param<String> answerSpansCol() {
        return answerSpansCol;
    }

    /** The correct-answer column. */
    public Param<String> answersCorrectCol() {
        return answersCorrectCol;
    }

    /** The answer-accuracy column. */
    public Param<String> answerAccuracyCol() {
        return answerAccuracyCol;
    }

    /** Whether bracketed answers are scored. */
    public boolean getScoreAnswers() {
        return (Boolean) getOrDefault(scoreAnswers);
    }

    /** The log-probability column. */
    public DCFormerScorer setLogProbCol(String v) {
        set(logProbCol, v);
        return this;
    }

    /** The token-count column. */
    public DCFormerScorer setTokenCountCol(String v) {
        set(tokenCountCol, v);
        return this;
    }

    /** The perplexity column. */
    public DCFormerScorer setPerplexityCol(String v) {
        set(perplexityCol, v);
        return this;
    }

    /** Whether to remove {@code [ ]} markers and score the bracketed answers (spec §8). */
    public DCFormerScorer setScoreAnswers(boolean v) {
        set(scoreAnswers, v);
        return this;
    }

    /** The answer-count column. */
    public DCFormerScorer setAnswerSpansCol(String v) {
        set(answerSpansCol, v);
        return this;
    }

    /** The correct-answer column. */
    public DCFormerScorer setAnswersCorrectCol(String v) {
        set(answersCorrectCol, v);
        return this;
    }

    /** The answer-accuracy column. */
    public DCFormerScorer setAnswerAccuracyCol(String v) {
        set(answerAccuracyCol, v);
        return this;
    }

    @Override
    public DCFormerScorer copy(ParamMap extra) {
        return defaultCopy(extra);
    }

    @Override
    protected List<StructField> outputFields() {
        List<StructField> f = new ArrayList<>();
        f.add(DataTypes.createStructField(getOrDefault(logProbCol), DataTypes.DoubleType, true));
        f.add(DataTypes.createStructField(getOrDefault(tokenCountCol), DataTypes.IntegerType, true));
        f.add(DataTypes.createStructField(getOrDefault(perplexityCol), DataTypes.DoubleType, true));
        if (getScoreAnswers()) {
            f.add(DataTypes.createStructField(getOrDefault(answerSpansCol), DataTypes.IntegerType, true));
            f.add(DataTypes.createStructField(getOrDefault(answersCorrectCol), DataTypes.IntegerType, true));
            f.add(DataTypes.createStructField(getOrDefault(answerAccuracyCol), DataTypes.DoubleType, true));
        }
        return f;
    }

    @Override
    protected PartitionWork work(ModelSpec spec, HadoopConf conf) {
        return new ScoringWork(spec, conf, getScoreAnswers(), getContextSize());
    }
}

package io.dcformer4j.spark;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.ml.Transformer;
import org.apache.spark.ml.param.BooleanParam;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamValidators;
import org.apache.spark.ml.util.DefaultParamsWritable;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * What {@link DCFormerGenerator} and {@link DCFormerScorer} share: the model ({@code modelPath}, {@code backend},
 * {@code threads}), the input column, the error column, {@code batchSize}, {@code contextSize} and
 * {@code failOnError}, and the partition loop. The model is opened once per executor JVM
 * ({@link ExecutorModels}); each partition keeps {@code batchSize} rows in flight on it.
 *
 * <p>Params are Spark ML {@link Param}s exposed as public no-argument methods (Spark finds them by reflection),
 * with Java-style setters that return {@code this} for chaining from Java and Scala. The transformers are
 * {@link DefaultParamsWritable}: {@code save(path)} writes their params, the static {@code load(path)} of each
 * class reads them back.
 */
public abstract class DCFormerTransformer<T extends DCFormerTransformer<T>> extends Transformer implements DefaultParamsWritable {
    private static final long serialVersionUID = 1L;
    private final String uid;
    private final Param<String> modelPath;
    private final Param<String> backend;
    private final IntParam threads;
    private final Param<String> inputCol;
    private final Param<String> errorCol;
    private final IntParam batchSize;
    private final IntParam contextSize;
    private final BooleanParam failOnError;

    /**
     * A transformer with the given uid and default params.
     *
     * @param uid   the Spark ML identifier
     * @param input the default input column
     * @param error the default error column
     */
    @SuppressWarnings("this-escape") // Spark ML params are built with their parent, as Spark's own stages do
    protected DCFormerTransformer(String uid, String input, String error) {
        this.uid = uid;
        modelPath = new Param<>(this, "modelPath", "model directory: a local path or file: URI present on every executor, "
                + "a Hadoop file system URI (hdfs:, s3a:, ...; copied to local disk once per executor), or demo:dcformer");
        backend = new Param<>(this, "backend", "backend name (cpu, cuda); empty: the selection rules "
                + "(-Ddcformer4j.backend, DCFORMER4J_BACKEND, else the best available)");
        threads = new IntParam(this, "threads", "backend worker threads per executor, 0 for all processors",
                ParamValidators.gtEq(0));
        inputCol = new Param<>(this, "inputCol", "input column: string, or binary holding UTF-8");
        errorCol = new Param<>(this, "errorCol", "output column of per-row error messages (null when the row succeeded)");
        batchSize = new IntParam(this, "batchSize", "rows of a partition in flight at once, each on its own session of "
                + "the shared model", ParamValidators.gtEq(1));
        contextSize = new IntParam(this, "contextSize", "longest text in tokens (prompt plus generated tokens for the "
                + "generator); 0: the model's block_size", ParamValidators.gtEq(0));
        failOnError = new BooleanParam(this, "failOnError", "fail the job on the first bad row instead of writing its "
                + "error to errorCol");
        setDefault(backend, "");
        setDefault(threads, 0);
        setDefault(inputCol, input);
        setDefault(errorCol, error);
        setDefault(batchSize, 8);
        setDefault(contextSize, 0);
        setDefault(failOnError, false);
    }

    @Override
    public String uid() {
        return uid;
    }

    /** The model directory or URI. */
    public final Param<String> modelPath() {
        return modelPath;
    }

    /** The backend name. */
    public final Param<String> backend() {
        return backend;
    }

    /** Backend worker threads. */
    public final IntParam threads() {
        return threads;
    }

    /** The input column. */
    public final Param<String> inputCol() {
        return inputCol;
    }

    /** The error column. */
    public final Param<String> errorCol() {
        return errorCol;
    }

    /** Rows in flight per partition. */
    public final IntParam batchSize() {
        return batchSize;
    }

    /** Longest text in tokens. */
    public final IntParam contextSize() {
        return contextSize;
    }

    /** Whether a bad row fails the job. */
    public final BooleanParam failOnError() {
        return failOnError;
    }

    /** The model directory or URI. */
    public String getModelPath() {
        return getOrDefault(modelPath);
    }

    /** The backend name (empty: selection rules). */
    public String getBackend() {
        return getOrDefault(backend);
    }

    /** Backend worker threads. */
    public int getThreads() {
        return (Integer) getOrDefault(threads);
    }

    /** The input column. */
    public String getInputCol() {
        return getOrDefault(inputCol);
    }

    /** The error column. */
    public String getErrorCol() {
        return getOrDefault(errorCol);
    }

    /** Rows in flight per partition. */
    public int getBatchSize() {
        return (Integer) getOrDefault(batchSize);
    }

    /** Longest text in tokens (0: block_size). */
    public int getContextSize() {
        return (Integer) getOrDefault(contextSize);
    }

    /** Whether a bad row fails the job. */
    public boolean getFailOnError() {
        return (Boolean) getOrDefault(failOnError);
    }

    /** The model directory or URI (see {@link ModelSpec#path()}). */
    public T setModelPath(String v) {
        set(modelPath, v);
        return self();
    }

    /** The backend name ({@code cpu}, {@code cuda}), or empty for the selection rules. */
    public T setBackend(String v) {
        set(backend, v);
        return self();
    }

    /** Backend worker threads per executor, 0 for all processors. */
    public T setThreads(int v) {
        set(threads, v);
        return self();
    }

    /** The input column. */
    public T setInputCol(String v) {
        set(inputCol, v);
        return self();
    }

    /** The error column. */
    public T setErrorCol(String v) {
        set(errorCol, v);
        return self();
    }

    /** Rows of a partition in flight at once. */
    public T setBatchSize(int v) {
        set(batchSize, v);
        return self();
    }

    /** Longest text in tokens, 0 for the model's block_size. */
    public T setContextSize(int v) {
        set(contextSize, v);
        return self();
    }

    /** Whether a bad row fails the job instead of getting an error entry. */
    public T setFailOnError(boolean v) {
        set(failOnError, v);
        return self();
    }

    /** This transformer as its own type, for setter chaining. */
    @SuppressWarnings("unchecked")
    protected final T self() {
        return (T) this;
    }

    /** The columns this transformer adds, before the error column. */
    protected abstract List<StructField> outputFields();

    /** The per-partition work, built on the driver and shipped to executors. */
    protected abstract PartitionWork work(ModelSpec spec, HadoopConf conf);

    @Override
    public StructType transformSchema(StructType schema) {
        String in = getInputCol();
        if (!Arrays.asList(schema.fieldNames()).contains(in)) {
            throw new IllegalArgumentException("input column '" + in + "' is not in the data set; its columns are "
                    + Arrays.toString(schema.fieldNames()));
        }
        StructField field = schema.apply(in);
        if (!RowText.accepts(field.dataType())) {
            throw new IllegalArgumentException("input column '" + in + "' has type " + field.dataType().simpleString()
                    + "; it must be string, or binary holding UTF-8");
        }
        List<StructField> added = new ArrayList<>(outputFields());
        added.add(DataTypes.createStructField(getErrorCol(), DataTypes.StringType, true));
        StructType out = schema;
        for (StructField f : added) {
            if (Arrays.asList(out.fieldNames()).contains(f.name())) {
                throw new IllegalArgumentException("output column '" + f.name() + "' is already in the data set; "
                        + "choose another name with its setter");
            }
            out = out.add(f);
        }
        return out;
    }

    @Override
    public Dataset<Row> transform(Dataset<?> dataset) {
        StructType out = transformSchema(dataset.schema());
        if (!isDefined(modelPath)) {
            throw new IllegalArgumentException("modelPath is not set: call setModelPath with a model directory or URI");
        }
        ModelSpec spec = new ModelSpec(getModelPath(), getBackend(), getThreads());
        HadoopConf conf = ModelFiles.isRemote(spec.path())
                ? new HadoopConf(dataset.sparkSession().sparkContext().hadoopConfiguration())
                : null;
        PartitionWork work = work(spec, conf);
        int inputIndex = dataset.schema().fieldIndex(getInputCol());
        int outputs = outputFields().size();
        int batch = getBatchSize();
        boolean fail = getFailOnError();
        MapPartitionsFunction<Row, Row> f = rows -> new PartitionRunner(rows, inputIndex, outputs, batch, fail,
                work.open());
        return dataset.toDF().mapPartitions(f, Encoders.row(out));
    }
}

package io.dcformer4j.spark.example;

import io.dcformer4j.spark.DCFormerGenerator;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/** Completes the prompts of a JSON Lines file ({"id": ..., "prompt": ...}) and writes them as Parquet. */
public final class BatchCompletion {

    public static void main(String[] args) {
        // args: input (JSON Lines), output directory, model (hdfs:///models/my-dcformer, a local dir, demo:dcformer)
        SparkSession spark = SparkSession.builder().appName("dcformer4j batch completion").getOrCreate();
        run(spark, args[0], args[1], args[2]);
        spark.stop();
    }

    public static void run(SparkSession spark, String input, String output, String model) {
        Dataset<Row> prompts = spark.read().json(input);
        Dataset<Row> completed = new DCFormerGenerator()
                .setModelPath(model)
                .setInputCol("prompt").setOutputCol("completion")   // and "generationError" per row
                .setMaxNewTokens(16).setStopStrings(new String[] {"\n"})
                .setTemperature(0.8).setTopP(0.95).setSeed(42)      // same seed, same completion per prompt
                .setBatchSize(8)                                    // rows in flight per partition
                .transform(prompts.repartition(spark.sparkContext().defaultParallelism()));
        completed.write().mode("overwrite").parquet(output);
    }
}

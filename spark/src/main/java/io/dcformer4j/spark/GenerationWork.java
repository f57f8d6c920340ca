package io.dcformer4j.spark;

import io.dcformer4j.DCFormer;
import io.dcformer4j.GenerationSession;
import io.dcformer4j.generate.GenerationConfig;
import io.dcformer4j.generate.TokenListener;
import java.io.Serial;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * The generator's per-partition work: each row runs on a session of the executor's shared model, taken from
 * a partition-local pool and reset after the row, so at most {@code batchSize} sessions exist per partition.
 */
final class GenerationWork implements PartitionWork {
    @Serial
    private static final long serialVersionUID = 1L;
    private final ModelSpec spec;
    private final HadoopConf conf;
    // GenerationConfig is not Serializable: its fields travel and it is rebuilt on the executor.
    private final int maxNewTokens;
    private final double temperature;
    private final double topP;
    private final String[] stopStrings;
    private final long seed;
    private final int contextSize;

    GenerationWork(ModelSpec spec, HadoopConf conf, GenerationConfig config, long seed, int contextSize) {
        this.spec = spec;
        this.conf = conf;
        this.maxNewTokens = config.maxNewTokens();
        this.temperature = config.temperature();
        this.topP = config.topP();
        this.stopStrings = config.stopStrings().toArray(String[]::new);
        this.seed = seed;
        this.contextSize = contextSize;
    }

    private GenerationConfig config() {
        return GenerationConfig.builder().maxNewTokens(maxNewTokens).temperature(temperature).topP(topP)
                .stopStrings(java.util.List.of(stopStrings)).build();
    }

    @Override
    public RowFunction open() {
        DCFormer model = ExecutorModels.get(spec, conf == null ? null : conf.get());
        int context = Contexts.resolve(contextSize, model);
        return new Generate(model, context);
    }

    private final class Generate implements RowFunction {
        private final DCFormer model;
        private final int context;
        private final int vocab;
        private final GenerationConfig config = config();
        private final ConcurrentLinkedQueue<GenerationSession> idle = new ConcurrentLinkedQueue<>();
        private final ConcurrentLinkedQueue<GenerationSession> all = new ConcurrentLinkedQueue<>();

        Generate(DCFormer model, int context) {
            this.model = model;
            this.context = context;
            this.vocab = model.config().vocabSize();
        }

        @Override
        public Object[] apply(String prompt) {
            int[] ids = model.tokenizer().encode(prompt);
            if (ids.length == 0) {
                throw new RowFailure("empty prompt: it encodes to no tokens, and generation continues from at least one");
            }
            if (ids.length >= context) {
                throw new RowFailure("prompt too long: " + ids.length + " tokens, but the context size is " + context
                        + " and at least one new token must fit");
            }
            Contexts.checkVocabulary(ids, vocab);
            GenerationConfig row = config.toBuilder()
                    .seed(RowSeeds.derive(seed, prompt))
                    .maxNewTokens(Math.min(config.maxNewTokens(), context - ids.length))
                    .build();
            GenerationSession session = idle.poll();
            if (session == null) {
                session = model.newSession();
                all.add(session);
            }
            try {
                return new Object[] {session.run(ids, row, TokenListener.NONE, null).text()};
            } finally {
                session.reset();
                idle.add(session);
            }
        }

        @Override
        public void close() {
            for (GenerationSession s : all) {
                s.close();
            }
        }
    }
}

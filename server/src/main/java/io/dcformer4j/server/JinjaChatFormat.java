package io.dcformer4j.server;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.LegacyOverrides;
import com.hubspot.jinjava.el.JinjavaInterpreterResolver;
import com.hubspot.jinjava.el.JinjavaProcessors;
import com.hubspot.jinjava.interpret.Context;
import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.interpret.RenderResult;
import com.hubspot.jinjava.interpret.TemplateError;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;
import com.hubspot.jinjava.loader.ResourceNotFoundException;
import io.dcformer4j.server.template.TemplateFunctions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import jinjava.javax.el.CompositeELResolver;

/**
 * The chat format of a model whose tokenizer files carry a chat template: the template rendered with
 * jinjava as Hugging Face's {@code apply_chat_template(messages, add_generation_prompt=True)} renders it with
 * Jinja: {@code messages} (a list of {@code {"role", "content"}}; OpenAI's {@code developer} role is passed as
 * {@code system}, which is what it replaced), {@code add_generation_prompt} true, the special tokens of
 * {@code tokenizer_config.json} ({@code bos_token}, {@code eos_token}, ...), {@code raise_exception(message)},
 * {@code trim_blocks} and {@code lstrip_blocks} on, Python's string methods ({@link PythonMethods}) and
 * Python's {@code tojson} ({@link PythonJsonFilter}).
 *
 * <p>Sandboxed: the template cannot reach files or the network ({@code include}, {@code import},
 * {@code from} and {@code extends} are disabled and the resource locator finds nothing), text in messages is
 * never interpreted as a template (nested interpretation is off), and one rendering is bounded in output
 * ({@link #MAX_OUTPUT_CHARS}), collection sizes, {@code range} and time ({@link #RENDER_TIME}, checked before
 * every template node).
 *
 * <p>Failures: {@code raise_exception} in the template is the client's problem (400 naming the template's
 * message, param {@code messages}), as is a rendering over the output or time bound; anything else the
 * template does wrong is a 500 naming the template's error.
 */
final class JinjaChatFormat implements ChatFormat {
    /** Longest prompt text a rendering may produce. */
    static final long MAX_OUTPUT_CHARS = 4L << 20;
    /** Longest a rendering may take (real templates take milliseconds; this also covers a cold, loaded JVM). */
    static final Duration RENDER_TIME = Duration.ofSeconds(10);
    /**
     * A loop filter, {@code {% for x in xs if test %}}: Jinja syntax that jinjava does not know (it ignores the
     * test and runs every item), so a template using one would render wrong without a word.
     */
    private static final Pattern LOOP_FILTER = Pattern.compile("\\{%[-+]?\\s*for\\s[^%]*?\\sin\\s[^%]*?\\sif\\s");
    private static final int MAX_COLLECTION = 100_000;
    private static final int RANGE_LIMIT = 10_000;
    private static final Set<String> FILE_TAGS = Set.of("include", "import", "from", "extends");
    private static final ThreadLocal<Rendering> CURRENT = new ThreadLocal<>();

    /** The state of one rendering on this thread: its deadline, and whether it ran out of time. */
    private static final class Rendering {
        final long deadline;
        boolean timedOut;

        Rendering(Duration limit) {
            deadline = System.nanoTime() + limit.toNanos();
        }
    }

    private final ChatTemplateSource source;
    private final Jinjava jinjava;
    private final String parseError;
    private final Duration renderTime;

    JinjaChatFormat(ChatTemplateSource source) {
        this(source, RENDER_TIME);
    }

    JinjaChatFormat(ChatTemplateSource source, Duration renderTime) {
        this.source = source;
        this.renderTime = renderTime;
        CompositeELResolver resolver = new CompositeELResolver();
        resolver.add(new PythonMethods());
        resolver.add(JinjavaInterpreterResolver.DEFAULT_RESOLVER_READ_ONLY);
        JinjavaConfig config = JinjavaConfig.newBuilder()
                .withTrimBlocks(true)
                .withLstripBlocks(true)
                // Jinja's behaviour where jinjava's defaults keep its own older one: {{- -}} trimming, Python's
                // operator precedence, string escapes and printing of lists, the template's trailing newline.
                .withLegacyOverrides(LegacyOverrides.newBuilder()
                        .withEvaluateMapKeys(true)
                        .withIterateOverMapKeys(true)
                        .withUsePyishObjectMapper(true)
                        .withUseNaturalOperatorPrecedence(true)
                        .withParseWhitespaceControlStrictly(true)
                        .withUseTrimmingForNotesAndExpressions(true)
                        .withKeepNullableLoopValues(true)
                        .withHandleBackslashInQuotesOnly(true)
                        .withDefaultKeepTrailingNewlineBehavior(true)
                        .build())
                .withNestedInterpretationEnabled(false)
                .withElResolver(resolver)
                .withDisabled(Map.of(Context.Library.TAG, FILE_TAGS))
                .withMaxOutputSize(MAX_OUTPUT_CHARS)
                .withMaxStringLength(MAX_OUTPUT_CHARS)
                .withMaxListSize(MAX_COLLECTION)
                .withMaxMapSize(MAX_COLLECTION)
                .withRangeLimit(RANGE_LIMIT)
                .withProcessors(JinjavaProcessors.newBuilder().withNodePreProcessor(JinjaChatFormat::checkTime).build())
                .build();
        jinjava = new Jinjava(config);
        jinjava.setResourceLocator((name, encoding, interpreter) -> {
            throw new ResourceNotFoundException("chat templates may not load other files ('" + name + "')");
        });
        jinjava.registerFunction(new ELFunctionDefinition("", "raise_exception", TemplateFunctions.class,
                "raiseException", Object.class));
        jinjava.registerFilter(new PythonJsonFilter());
        parseError = parseError();
    }

    /** The template's syntax error, or null: checked once, so that a broken template is reported at load. */
    private String parseError() {
        if (LOOP_FILTER.matcher(source.template()).find()) {
            return "it filters a loop ({% for ... in ... if ... %}), which jinjava does not support; move the test into"
                    + " the loop body ({% if ... %} inside the loop)";
        }
        JinjavaInterpreter interpreter = jinjava.newInterpreter();
        interpreter.parse(source.template());
        return fatal(interpreter.getErrors()).map(e -> describe(e)).orElse(null);
    }

    /** Why this template cannot be used, or null when it parsed. */
    String problem() {
        return parseError;
    }

    @Override
    public String render(List<Message> messages) {
        if (parseError != null) {
            throw ApiException.internal("The model's chat template (" + source.origin() + ") cannot be used: " + parseError);
        }
        Map<String, Object> bindings = new HashMap<>(source.specialTokens());
        List<Map<String, Object>> list = new ArrayList<>(messages.size());
        for (Message m : messages) {
            Map<String, Object> message = new HashMap<>();
            message.put("role", m.role().equals("developer") ? "system" : m.role());
            message.put("content", m.content());
            list.add(message);
        }
        bindings.put("messages", list);
        bindings.put("add_generation_prompt", true);
        Rendering rendering = new Rendering(renderTime);
        CURRENT.set(rendering);
        RenderResult result;
        try {
            result = jinjava.renderForResult(source.template(), bindings);
        } finally {
            CURRENT.remove();
        }
        if (rendering.timedOut) {
            throw ApiException.badField("messages", "The model's chat template took longer than " + renderTime.toMillis()
                    + " ms to render these messages");
        }
        var fatal = fatal(result.getErrors());
        if (fatal.isPresent()) {
            TemplateError e = fatal.get();
            String raised = raised(e);
            if (raised != null) {
                throw ApiException.badField("messages", "The model's chat template refused these messages: " + raised);
            }
            if (e.getReason() == TemplateError.ErrorReason.OUTPUT_TOO_BIG
                    || e.getReason() == TemplateError.ErrorReason.COLLECTION_TOO_BIG) {
                throw ApiException.badField("messages", "The model's chat template makes too large a prompt of these messages: "
                        + e.getMessage());
            }
            throw ApiException.internal("The model's chat template (" + source.origin() + ") failed: " + describe(e));
        }
        return result.getOutput();
    }

    private static java.util.Optional<TemplateError> fatal(List<TemplateError> errors) {
        return errors.stream().filter(e -> e.getSeverity() == TemplateError.ErrorType.FATAL).findFirst();
    }

    private static String describe(TemplateError e) {
        return e.getMessage() + (e.getLineno() > 0 ? " (line " + e.getLineno() + ")" : "");
    }

    /** Before every node: stop a rendering past its deadline (the exception ends it; the flag says why). */
    private static void checkTime(com.hubspot.jinjava.tree.Node node, JinjavaInterpreter interpreter) {
        Rendering r = CURRENT.get();
        if (r != null && System.nanoTime() > r.deadline) {
            r.timedOut = true;
            throw new IllegalStateException("the chat template ran out of time");
        }
    }

    /** The message of the template's {@code raise_exception} call behind this error, or null. */
    private static String raised(TemplateError e) {
        int depth = 0;
        for (Throwable t = e.getException(); t != null && depth < 32; t = t.getCause(), depth++) {
            if (t instanceof TemplateFunctions.TemplateRaisedException r) {
                return r.getMessage();
            }
        }
        return null;
    }

    /** The template's end: the {@code eos_token}, when the tokenizer's special tokens do not already end it. */
    @Override
    public List<String> stopStrings() {
        String eos = source.specialTokens().get("eos_token");
        return eos == null || eos.isEmpty() ? List.of() : List.of(eos);
    }

    @Override
    public String name() {
        return "chat template (" + source.origin() + ")";
    }
}

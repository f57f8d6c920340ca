package io.dcformer4j.server.template;

/**
 * Functions the server gives chat templates. Public and in a package of its own because jinjava calls them by
 * reflection: the module opens only this package to it.
 */
public final class TemplateFunctions {
    private TemplateFunctions() {
    }

    /** {@code raise_exception(message)}, as Hugging Face defines it: the template refuses the conversation. */
    public static Object raiseException(Object message) {
        throw new TemplateRaisedException(String.valueOf(message));
    }

    /** What {@code raise_exception} throws; the server finds it in jinjava's error and answers 400 with its message. */
    public static final class TemplateRaisedException extends RuntimeException {
        TemplateRaisedException(String message) {
            super(message, null, false, false);
        }
    }
}

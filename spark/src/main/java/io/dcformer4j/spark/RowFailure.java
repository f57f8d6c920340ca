package io.dcformer4j.spark;

/**
 * A row that cannot be processed because of its content (too long, empty, not decodable): the row gets a null
 * output and this message in the error column, or the job fails with it when {@code failOnError} is set.
 */
final class RowFailure extends RuntimeException {
    RowFailure(String reason) {
        super(reason, null, false, false);
    }
}

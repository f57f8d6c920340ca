package io.dcformer4j.spark;

import java.net.URI;
import org.apache.hadoop.fs.RawLocalFileSystem;

/** Local files under the scheme {@code testfs:}, which the transformers treat as remote (copied before loading). */
public class TestFileSystem extends RawLocalFileSystem {
    @Override
    public URI getUri() {
        return URI.create("testfs:///");
    }

    @Override
    public String getScheme() {
        return "testfs";
    }
}

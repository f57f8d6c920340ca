package io.dcformer4j.model.checkpoint;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.ByteOrder;
import java.nio.file.Path;

/** Locates test resources and reads tensor bytes for comparisons. */
final class TestResources {
    private static final ValueLayout.OfFloat LE_F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private TestResources() {
    }

    static Path path(String resource) {
        URL url = TestResources.class.getResource("/" + resource);
        if (url == null) {
            throw new IllegalStateException("missing test resource " + resource);
        }
        try {
            return Path.of(url.toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    static float[] f32(MemorySegment s) {
        float[] r = new float[(int) (s.byteSize() / 4)]; // [numel]
        for (int i = 0; i < r.length; i++) {
            r[i] = s.get(LE_F32, 4L * i);
        }
        return r;
    }
}

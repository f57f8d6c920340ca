package io.dcformer4j.model.checkpoint;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Writes a state_dict the way {@code torch.save} lays it out, from Java, for tests on larger models. */
final class TorchBinWriter {

    /** One tensor: a storage class of {@code torch} ({@code FloatStorage}, {@code HalfStorage}...), shape and bytes. */
    record Tensor(String name, String storageClass, int elementSize, int[] shape, byte[] data) {
    }

    private TorchBinWriter() {
    }

    static Path write(Path file, String top, List<Tensor> tensors) throws IOException {
        PickleBytes p = new PickleBytes().proto().orderedDict().mark();
        Map<String, byte[]> entries = new LinkedHashMap<>();
        entries.put(top + "/data.pkl", null);
        for (int i = 0; i < tensors.size(); i++) {
            Tensor t = tensors.get(i);
            int[] stride = new int[t.shape().length];
            int s = 1;
            for (int d = stride.length - 1; d >= 0; d--) {
                stride[d] = s;
                s *= t.shape()[d];
            }
            p.str(t.name()).tensor(t.storageClass(), Integer.toString(i), t.data().length / t.elementSize(), 0, t.shape(), stride);
            entries.put(top + "/data/" + i, t.data());
        }
        entries.put(top + "/data.pkl", p.op('u').op('.').bytes());
        entries.put(top + "/version", "3\n".getBytes(StandardCharsets.US_ASCII));
        return ZipBytes.write(file, entries);
    }
}

package io.dcformer4j;

import io.dcformer4j.model.checkpoint.TensorInfo;
import io.dcformer4j.model.checkpoint.WeightSource;
import java.lang.foreign.MemorySegment;
import java.util.HashSet;
import java.util.Set;
import java.util.SortedMap;

/** A {@link WeightSource} that tells a {@link LoadListener} about every tensor the model reads from it. */
final class ProgressWeightSource implements WeightSource {
    private final WeightSource delegate;
    private final LoadListener listener;
    private final long total;
    private final Set<String> seen = new HashSet<>();
    private long done;

    ProgressWeightSource(WeightSource delegate, LoadListener listener) {
        this.delegate = delegate;
        this.listener = listener;
        long sum = 0;
        for (TensorInfo t : delegate.tensors().values()) {
            sum += t.byteSize();
        }
        this.total = sum;
    }

    @Override
    public SortedMap<String, TensorInfo> tensors() {
        return delegate.tensors();
    }

    @Override
    public synchronized MemorySegment data(String name) {
        MemorySegment s = delegate.data(name);
        if (seen.add(name)) {
            done += delegate.tensors().get(name).byteSize();
            listener.onTensor(name, done, total);
        }
        return s;
    }

    @Override
    public String origin() {
        return delegate.origin();
    }

    @Override
    public void close() {
        delegate.close();
    }
}

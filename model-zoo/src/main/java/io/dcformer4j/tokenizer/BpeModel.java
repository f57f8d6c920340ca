package io.dcformer4j.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The BPE model of a {@code tokenizer.json}: a vocabulary and ranked merges. A word starts as one symbol per
 * character and the adjacent pair with the lowest merge rank (leftmost first) is merged until none is left.
 * Results are cached per word, so repeated words cost one hash look-up. Thread-safe.
 */
final class BpeModel {
    private static final int CACHE_LIMIT = 200_000;
    private static final int CACHEABLE_LENGTH = 256;

    private final Map<String, Integer> vocab;
    // Pair (left id, right id) packed in a long -> (rank << 32 | merged id).
    private final Map<Long, Long> merges;
    private final boolean ignoreMerges;
    private final boolean byteFallback;
    private final int unkId;
    private final boolean fuseUnk;
    private final ConcurrentHashMap<String, int[]> cache = new ConcurrentHashMap<>();

    /**
     * @param vocab        token to id
     * @param merges       packed pair to packed (rank, merged id), see {@link #pack}
     * @param ignoreMerges whether a word that is itself in the vocabulary is emitted whole
     * @param byteFallback whether characters outside the vocabulary become {@code <0xXX>} byte tokens
     * @param unkId        the unknown token's id, or -1 to drop characters outside the vocabulary
     * @param fuseUnk      whether consecutive unknown characters give one unknown token
     */
    BpeModel(Map<String, Integer> vocab, Map<Long, Long> merges, boolean ignoreMerges, boolean byteFallback,
             int unkId, boolean fuseUnk) {
        this.vocab = vocab;
        this.merges = merges;
        this.ignoreMerges = ignoreMerges;
        this.byteFallback = byteFallback;
        this.unkId = unkId;
        this.fuseUnk = fuseUnk;
    }

    static long pack(int hi, int lo) {
        return ((long) hi << 32) | (lo & 0xFFFFFFFFL);
    }

    /** Appends the ids of one pre-tokenized word. */
    void encode(String word, IntList out) {
        if (word.isEmpty()) {
            return;
        }
        int[] cached = cache.get(word);
        if (cached == null) {
            cached = encodeUncached(word);
            if (word.length() <= CACHEABLE_LENGTH) {
                if (cache.size() >= CACHE_LIMIT) {
                    cache.clear();
                }
                cache.put(word, cached);
            }
        }
        out.addAll(cached);
    }

    private int[] encodeUncached(String word) {
        if (ignoreMerges) {
            Integer whole = vocab.get(word);
            if (whole != null) {
                return new int[] {whole};
            }
        }
        IntList initial = new IntList(word.length());
        boolean lastWasUnk = false;
        for (int i = 0; i < word.length(); ) {
            int cp = word.codePointAt(i);
            int len = Character.charCount(cp);
            Integer id = vocab.get(word.substring(i, i + len));
            i += len;
            if (id != null) {
                initial.add(id);
                lastWasUnk = false;
            } else if (byteFallback) {
                for (byte b : new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8)) {
                    Integer bid = vocab.get(String.format("<0x%02X>", b & 0xFF));
                    if (bid != null) {
                        initial.add(bid);
                    } else if (unkId >= 0) {
                        initial.add(unkId);
                    }
                }
                lastWasUnk = false;
            } else if (unkId >= 0) {
                if (!(fuseUnk && lastWasUnk)) {
                    initial.add(unkId);
                }
                lastWasUnk = true;
            }
        }
        return merge(initial.toArray());
    }

    private int[] merge(int[] ids) {
        int n = ids.length;
        if (n < 2) {
            return ids;
        }
        int[] next = new int[n];
        int[] prev = new int[n];
        for (int i = 0; i < n; i++) {
            next[i] = i + 1 < n ? i + 1 : -1;
            prev[i] = i - 1;
        }
        // Entries (rank << 32 | left position): lowest rank first, then leftmost.
        PriorityQueue<Long> queue = new PriorityQueue<>();
        for (int i = 0; i + 1 < n; i++) {
            offer(queue, ids, i, i + 1);
        }
        boolean[] dead = new boolean[n];
        while (!queue.isEmpty()) {
            long e = queue.poll();
            int rank = (int) (e >>> 32);
            int left = (int) e;
            int right = dead[left] ? -1 : next[left];
            if (right < 0) {
                continue;
            }
            Long m = merges.get(pack(ids[left], ids[right]));
            if (m == null || (int) (m >>> 32) != rank) {
                continue;
            }
            ids[left] = (int) (long) m;
            dead[right] = true;
            next[left] = next[right];
            if (next[right] >= 0) {
                prev[next[right]] = left;
            }
            if (prev[left] >= 0) {
                offer(queue, ids, prev[left], left);
            }
            if (next[left] >= 0) {
                offer(queue, ids, left, next[left]);
            }
        }
        IntList out = new IntList(n);
        for (int i = 0; i >= 0; i = next[i]) {
            out.add(ids[i]);
        }
        return out.toArray();
    }

    private void offer(PriorityQueue<Long> queue, int[] ids, int left, int right) {
        Long m = merges.get(pack(ids[left], ids[right]));
        if (m != null) {
            queue.add(((m >>> 32) << 32) | left);
        }
    }
}

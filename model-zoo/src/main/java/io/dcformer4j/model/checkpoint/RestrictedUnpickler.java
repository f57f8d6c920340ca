package io.dcformer4j.model.checkpoint;

import java.math.BigInteger;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A pickle reader for PyTorch state_dicts that executes nothing. It understands the opcodes
 * {@code torch.save} emits (protocol 2, plus the protocol 4 framing and memo opcodes) and builds plain Java
 * values: {@link String}, {@link Long} or {@link BigInteger}, {@link Double}, {@link Boolean}, {@code null},
 * {@link List} for lists, {@link Tuple}, {@link LinkedHashMap} for dicts and {@code OrderedDict}s, and
 * {@link TensorRef} for tensors. Globals are looked up in a fixed allow-list; any other global fails at once
 * with its name, before anything could be called.
 */
final class RestrictedUnpickler {

    /** A Python tuple. */
    record Tuple(List<Object> items) {
    }

    /** A reference to a global that the allow-list admits. */
    record Global(String module, String name) {
        String qualified() {
            return module + "." + name;
        }
    }

    /** A storage of the archive, from a persistent id {@code ('storage', class, key, location, numel)}. */
    record StorageRef(String storageClass, String key, String location, long numel) {
    }

    /** A tensor view of a storage, from {@code torch._utils._rebuild_tensor_v2}. */
    record TensorRef(StorageRef storage, long storageOffset, long[] size, long[] stride) {
    }

    /** Globals a state_dict needs; nothing else can be named. */
    static final Set<String> ALLOWED_GLOBALS = Set.of(
            "collections.OrderedDict",
            "torch._utils._rebuild_tensor_v2",
            "torch._utils._rebuild_parameter",
            "torch._utils._rebuild_parameter_with_state",
            "torch.FloatStorage", "torch.HalfStorage", "torch.BFloat16Storage", "torch.IntStorage",
            "torch.LongStorage", "torch.storage.UntypedStorage",
            "torch.float32", "torch.float16", "torch.bfloat16", "torch.int32", "torch.int64",
            "torch.float", "torch.half", "torch.int", "torch.long");

    /**
     * Opcodes executed before giving up: a state_dict needs a few dozen per tensor (the 6.9B model about 25
     * thousand in all), and the cap bounds the heap a hostile pickle can make this reader allocate.
     */
    static final int MAX_OPERATIONS = 2_000_000;

    private static final Object MARK_SENTINEL = new Object();

    private final byte[] in;
    private final String where;
    private int pos;
    private final List<Object> stack = new ArrayList<>();
    private final List<Integer> marks = new ArrayList<>();
    private final Map<Long, Object> memo = new HashMap<>();

    private RestrictedUnpickler(byte[] in, String where) {
        this.in = in;
        this.where = where;
    }

    /**
     * Reads one pickled object.
     *
     * @param where names the pickle in error messages (archive path and entry)
     * @throws CheckpointException naming {@code where}, the opcode position and the problem
     */
    static Object load(byte[] pickle, String where) {
        return new RestrictedUnpickler(pickle, where).run();
    }

    private Object run() {
        for (int executed = 0; ; executed++) {
            if (pos >= in.length) {
                throw error("pickle ends without STOP");
            }
            if (executed == MAX_OPERATIONS) {
                throw error("more than " + MAX_OPERATIONS + " pickle operations; a state_dict needs far fewer");
            }
            int at = pos;
            int op = in[pos++] & 0xFF;
            switch (op) {
                case 0x80 -> { // PROTO
                    int proto = u8();
                    if (proto > 5) {
                        throw error("unsupported pickle protocol " + proto);
                    }
                }
                case 0x95 -> skip(8); // FRAME: a length hint only
                case '.' -> { // STOP
                    Object result = pop(at);
                    return result;
                }
                case '(' -> { // MARK
                    marks.add(stack.size());
                    stack.add(MARK_SENTINEL);
                }
                case '}' -> stack.add(new LinkedHashMap<Object, Object>()); // EMPTY_DICT
                case ']' -> stack.add(new ArrayList<Object>()); // EMPTY_LIST
                case ')' -> stack.add(new Tuple(List.of())); // EMPTY_TUPLE
                case 'N' -> stack.add(null); // NONE
                case 0x88 -> stack.add(Boolean.TRUE); // NEWTRUE
                case 0x89 -> stack.add(Boolean.FALSE); // NEWFALSE
                case 'J' -> stack.add((long) i32()); // BININT
                case 'K' -> stack.add((long) u8()); // BININT1
                case 'M' -> stack.add((long) u16()); // BININT2
                case 0x8a -> stack.add(long1(u8())); // LONG1
                case 'G' -> stack.add(Double.longBitsToDouble(Long.reverseBytes(bytes8()))); // BINFLOAT, big-endian
                case 'X' -> stack.add(utf8(u32())); // BINUNICODE
                case 0x8c -> stack.add(utf8(u8())); // SHORT_BINUNICODE
                case 0x8d -> stack.add(utf8(u64())); // BINUNICODE8
                case 'T' -> stack.add(latin1(u32())); // BINSTRING
                case 'U' -> stack.add(latin1(u8())); // SHORT_BINSTRING
                case 'B' -> stack.add(raw(u32())); // BINBYTES
                case 'C' -> stack.add(raw(u8())); // SHORT_BINBYTES
                case 't' -> stack.add(new Tuple(popMark(at))); // TUPLE
                case 0x85 -> stack.add(new Tuple(popN(1, at))); // TUPLE1
                case 0x86 -> stack.add(new Tuple(popN(2, at))); // TUPLE2
                case 0x87 -> stack.add(new Tuple(popN(3, at))); // TUPLE3
                case 'l' -> stack.add(new ArrayList<>(popMark(at))); // LIST
                case 'd' -> { // DICT
                    Map<Object, Object> d = new LinkedHashMap<>();
                    putPairs(d, popMark(at), at);
                    stack.add(d);
                }
                case 'a' -> { // APPEND
                    Object v = pop(at);
                    asList(peek(at), at).add(v);
                }
                case 'e' -> { // APPENDS
                    List<Object> items = popMark(at);
                    asList(peek(at), at).addAll(items);
                }
                case 's' -> { // SETITEM
                    Object v = pop(at);
                    Object k = pop(at);
                    asDict(peek(at), at).put(hashableKey(k, at), v);
                }
                case 'u' -> { // SETITEMS
                    List<Object> items = popMark(at);
                    putPairs(asDict(peek(at), at), items, at);
                }
                case 'c' -> stack.add(global(line(), line(), at)); // GLOBAL
                case 0x93 -> { // STACK_GLOBAL
                    Object name = pop(at);
                    Object module = pop(at);
                    if (!(module instanceof String m) || !(name instanceof String n)) {
                        throw error("STACK_GLOBAL at " + at + " needs two strings");
                    }
                    stack.add(global(m, n, at));
                }
                case 'Q' -> stack.add(persistentLoad(pop(at), at)); // BINPERSID
                case 'R' -> { // REDUCE
                    Object args = pop(at);
                    Object callable = pop(at);
                    stack.add(reduce(callable, args, at));
                }
                case 'b' -> { // BUILD
                    Object state = pop(at);
                    build(peek(at), state, at);
                }
                case 'h' -> stack.add(memoGet(u8(), at)); // BINGET
                case 'j' -> stack.add(memoGet(u32(), at)); // LONG_BINGET
                case 'q' -> memo.put((long) u8(), peek(at)); // BINPUT
                case 'r' -> memo.put(u32(), peek(at)); // LONG_BINPUT
                case 0x94 -> memo.put((long) memo.size(), peek(at)); // MEMOIZE
                case '0' -> pop(at); // POP
                case '1' -> popMark(at); // POP_MARK
                case '2' -> stack.add(peek(at)); // DUP
                default -> throw error("unsupported pickle opcode 0x" + Integer.toHexString(op) + " at offset " + at
                        + " (a state_dict of tensors does not need it)");
            }
        }
    }

    private Global global(String module, String name, int at) {
        String q = module + "." + name;
        if (!ALLOWED_GLOBALS.contains(q)) {
            throw error("forbidden global '" + q + "' at offset " + at
                    + " (only the globals a PyTorch state_dict needs are allowed; nothing was executed)");
        }
        return new Global(module, name);
    }

    private Object reduce(Object callable, Object args, int at) {
        if (!(callable instanceof Global g)) {
            throw error("REDUCE at offset " + at + " calls a " + typeName(callable) + ", not an allowed global");
        }
        if (!(args instanceof Tuple t)) {
            throw error("REDUCE of " + g.qualified() + " at offset " + at + " has " + typeName(args) + " arguments");
        }
        List<Object> a = t.items();
        return switch (g.qualified()) {
            case "collections.OrderedDict" -> {
                if (!a.isEmpty()) {
                    throw error("collections.OrderedDict at offset " + at + " called with " + a.size()
                            + " arguments; only OrderedDict() is supported");
                }
                yield new LinkedHashMap<Object, Object>();
            }
            case "torch._utils._rebuild_tensor_v2" -> rebuildTensor(a, at);
            case "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state" -> {
                if (a.isEmpty() || !(a.getFirst() instanceof TensorRef tensor)) {
                    throw error(g.qualified() + " at offset " + at + " needs a tensor as first argument");
                }
                yield tensor;
            }
            default -> throw error("global '" + g.qualified() + "' at offset " + at + " is not callable here");
        };
    }

    private TensorRef rebuildTensor(List<Object> a, int at) {
        if (a.size() < 4 || !(a.get(0) instanceof StorageRef storage) || !(a.get(1) instanceof Long offset)
                || !(a.get(2) instanceof Tuple size) || !(a.get(3) instanceof Tuple stride)) {
            throw error("torch._utils._rebuild_tensor_v2 at offset " + at
                    + " needs (storage, storage_offset, size, stride, ...), got " + describe(a));
        }
        if (offset < 0) {
            throw error("tensor at offset " + at + " has negative storage offset " + offset);
        }
        long[] s = longs(size, "size", at);
        long[] st = longs(stride, "stride", at);
        if (s.length != st.length) {
            throw error("tensor at offset " + at + " has size of rank " + s.length + " but stride of rank " + st.length);
        }
        return new TensorRef(storage, offset, s, st);
    }

    private long[] longs(Tuple t, String what, int at) {
        long[] r = new long[t.items().size()];
        for (int i = 0; i < r.length; i++) {
            if (!(t.items().get(i) instanceof Long v) || v < 0) {
                throw error("tensor at offset " + at + " has invalid " + what + " " + describe(t.items()));
            }
            r[i] = v;
        }
        return r;
    }

    private Object persistentLoad(Object pid, int at) {
        if (pid instanceof Tuple t && t.items().size() == 5 && "storage".equals(t.items().get(0))
                && t.items().get(1) instanceof Global cls && t.items().get(2) instanceof String key
                && t.items().get(3) instanceof String location && t.items().get(4) instanceof Long numel && numel >= 0) {
            if (!cls.module().equals("torch") && !cls.qualified().equals("torch.storage.UntypedStorage")) {
                throw error("persistent id at offset " + at + " names " + cls.qualified() + ", not a storage class");
            }
            return new StorageRef(cls.qualified(), key, location, numel);
        }
        throw error("unsupported persistent id at offset " + at + ": " + describe(pid));
    }

    private void build(Object target, Object state, int at) {
        if (target instanceof Map<?, ?> && (state == null || state instanceof Map<?, ?>)) {
            return; // OrderedDict._metadata (module versions) carries nothing a loader needs
        }
        if (target instanceof TensorRef) {
            return; // tensor state (requires_grad hooks) is irrelevant for inference
        }
        throw error("BUILD at offset " + at + " on a " + typeName(target) + " is not supported");
    }

    private void putPairs(Map<Object, Object> d, List<Object> items, int at) {
        if (items.size() % 2 != 0) {
            throw error("odd number of items (" + items.size() + ") for a dict at offset " + at);
        }
        for (int i = 0; i < items.size(); i += 2) {
            d.put(hashableKey(items.get(i), at), items.get(i + 1));
        }
    }

    private Object hashableKey(Object key, int at) {
        if (key == null || key instanceof String || key instanceof Long || key instanceof BigInteger
                || key instanceof Double || key instanceof Boolean) {
            return key;
        }
        throw error("dict key of type " + typeName(key) + " at offset " + at + " is not supported (state_dict keys are strings)");
    }

    @SuppressWarnings("unchecked")
    private List<Object> asList(Object o, int at) {
        if (o instanceof List<?> l && !(o instanceof Tuple)) {
            return (List<Object>) l;
        }
        throw error("append at offset " + at + " to a " + typeName(o));
    }

    @SuppressWarnings("unchecked")
    private Map<Object, Object> asDict(Object o, int at) {
        if (o instanceof Map<?, ?> m) {
            return (Map<Object, Object>) m;
        }
        throw error("set item at offset " + at + " on a " + typeName(o));
    }

    private Object memoGet(long key, int at) {
        if (!memo.containsKey(key)) {
            throw error("memo key " + key + " read at offset " + at + " was never stored");
        }
        return memo.get(key);
    }

    private Object pop(int at) {
        if (stack.isEmpty() || stack.getLast() == MARK_SENTINEL) {
            throw error("stack underflow at offset " + at);
        }
        return stack.removeLast();
    }

    private Object peek(int at) {
        if (stack.isEmpty() || stack.getLast() == MARK_SENTINEL) {
            throw error("stack underflow at offset " + at);
        }
        return stack.getLast();
    }

    private List<Object> popN(int n, int at) {
        List<Object> r = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            r.addFirst(pop(at));
        }
        return r;
    }

    private List<Object> popMark(int at) {
        if (marks.isEmpty()) {
            throw error("no MARK before offset " + at);
        }
        int m = marks.removeLast();
        List<Object> items = new ArrayList<>(stack.subList(m + 1, stack.size()));
        stack.subList(m, stack.size()).clear();
        return items;
    }

    private void need(long n) {
        if (n < 0 || n > in.length - pos) {
            throw error("pickle truncated: " + n + " bytes needed at offset " + pos + ", " + (in.length - pos) + " left");
        }
    }

    private void skip(int n) {
        need(n);
        pos += n;
    }

    private int u8() {
        need(1);
        return in[pos++] & 0xFF;
    }

    private int u16() {
        need(2);
        int v = (in[pos] & 0xFF) | (in[pos + 1] & 0xFF) << 8;
        pos += 2;
        return v;
    }

    private int i32() {
        need(4);
        int v = (in[pos] & 0xFF) | (in[pos + 1] & 0xFF) << 8 | (in[pos + 2] & 0xFF) << 16 | (in[pos + 3] & 0xFF) << 24;
        pos += 4;
        return v;
    }

    private long u32() {
        return Integer.toUnsignedLong(i32());
    }

    private long bytes8() {
        need(8);
        long v = 0;
        for (int i = 0; i < 8; i++) {
            v |= (long) (in[pos + i] & 0xFF) << (8 * i);
        }
        pos += 8;
        return v;
    }

    private long u64() {
        long v = bytes8();
        if (v < 0) {
            throw error("length " + Long.toUnsignedString(v) + " at offset " + (pos - 8) + " is out of range");
        }
        return v;
    }

    private Object long1(int n) {
        need(n);
        if (n == 0) {
            return 0L;
        }
        byte[] be = new byte[n];
        for (int i = 0; i < n; i++) {
            be[i] = in[pos + n - 1 - i];
        }
        pos += n;
        BigInteger v = new BigInteger(be);
        return v.bitLength() < 64 ? (Object) v.longValue() : v;
    }

    private byte[] raw(long n) {
        need(n);
        byte[] r = java.util.Arrays.copyOfRange(in, pos, pos + (int) n);
        pos += (int) n;
        return r;
    }

    private String utf8(long n) {
        int start = pos;
        byte[] b = raw(n);
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(b)).toString();
        } catch (CharacterCodingException e) {
            throw error("invalid UTF-8 string at offset " + start);
        }
    }

    private String latin1(long n) {
        return new String(raw(n), StandardCharsets.ISO_8859_1);
    }

    private String line() {
        int start = pos;
        while (pos < in.length && in[pos] != '\n') {
            pos++;
        }
        if (pos >= in.length) {
            throw error("unterminated GLOBAL name at offset " + start);
        }
        String s = new String(in, start, pos - start, StandardCharsets.UTF_8);
        pos++;
        return s;
    }

    private static String typeName(Object o) {
        return o == null ? "None" : o.getClass().getSimpleName();
    }

    /** One level deep only: pickled values can nest or refer to themselves without bound. */
    private static String describe(Object o) {
        List<?> items = o instanceof Tuple t ? t.items() : o instanceof List<?> l ? l : null;
        if (items == null) {
            return scalar(o);
        }
        StringBuilder b = new StringBuilder(o instanceof Tuple ? "(" : "[");
        for (int i = 0; i < Math.min(items.size(), 8); i++) {
            b.append(i == 0 ? "" : ", ").append(scalar(items.get(i)));
        }
        return b.append(items.size() > 8 ? ", ...)" : o instanceof Tuple ? ")" : "]").toString();
    }

    private static String scalar(Object o) {
        if (o == null || o instanceof Long || o instanceof Double || o instanceof Boolean || o instanceof BigInteger) {
            return String.valueOf(o);
        }
        if (o instanceof String s) {
            return "'" + (s.length() > 60 ? s.substring(0, 60) + "..." : s) + "'";
        }
        if (o instanceof Global g) {
            return g.qualified();
        }
        return typeName(o);
    }

    private CheckpointException error(String message) {
        return new CheckpointException(where + ": " + message);
    }
}

#!/usr/bin/python3
"""Builds the small PyTorch checkpoint fixtures used by the model-zoo checkpoint tests.

Run with Debian's torch (apt-get install python3-torch python3-numpy):

    /usr/bin/python3 tools/make_checkpoint_fixtures.py model-zoo/src/test/resources/checkpoints

It writes, with torch.save (zip + pickle protocol 2, as the released DCFormer files):
  single/pytorch_model.bin        tiny random DCFormer-like state_dict in FP16 with the spec §5.1 names,
                                  including the derived dw_m / qkw_m, pre/post_proj.w (identity in layer 0,
                                  random "use_sw" weights in layer 1) and zero kv_cache buffers
  sharded/pytorch_model-0000{1,2}-of-00002.bin + pytorch_model.bin.index.json   the same dict in two shards
  split_qkv/pytorch_model.bin     the same model with wq/wk/wv (weights and biases) instead of wqkv
  extras.bin                      F32 / BF16 / I64 / transposed / offset views sharing a storage
  extras_protocol4.bin            the same dict pickled with protocol 4 (FRAME, MEMOIZE, SHORT_BINUNICODE)
  forbidden_os_system.bin         a state_dict whose pickle references os.system (must be refused)
  forbidden_custom_class.bin      a state_dict holding an instance of a custom class (must be refused)
and the expected values, written as plain safetensors by hand (no safetensors package involved):
  expected.safetensors, expected_split_qkv.safetensors, expected_extras.safetensors
"""
import collections
import io
import json
import os
import struct
import sys

import torch

E, N, D, K, I, F, V, L, S = 16, 2, 8, 4, 2, 24, 11, 2, 4
DTYPE = torch.float16


def rnd(*shape):
    return (torch.randn(*shape) * 0.5).to(DTYPE)


def dcformer_state_dict(split_qkv):
    sd = collections.OrderedDict()
    sd["tok_embeddings.weight"] = rnd(V, E)
    for i in range(L):
        p = f"layers.{i}."
        sd[p + "attention_norm.weight"] = rnd(E)
        if split_qkv:
            for n in ("wq", "wk", "wv"):
                sd[p + f"attention.{n}.weight"] = rnd(N * D, E)
                sd[p + f"attention.{n}.bias"] = rnd(N * D)
        else:
            sd[p + "attention.wqkv.weight"] = rnd(3 * N * D, E)
        sd[p + "attention.wo.weight"] = rnd(E, N * D)
        sd[p + "attention.q_norm.scale"] = rnd(D)
        sd[p + "attention.k_norm.scale"] = rnd(D)
        dw1, qkw, dd = rnd(E, 1, 4, K), rnd(1, 4, K, 2 * I, N), rnd(E, 1, 4 * N)
        sd[p + "attention.dyn_w_proj.dw1"] = dw1
        sd[p + "attention.dyn_w_proj.qkw"] = qkw
        sd[p + "attention.dyn_w_proj.dd"] = dd
        sd[p + "attention.dyn_w_proj.dw_m"] = torch.cat([dw1.reshape(E, 4 * K), dd.reshape(E, 4 * N)], dim=1)
        sd[p + "attention.dyn_w_proj.qkw_m"] = qkw.reshape(4, K, 2 * I * N)
        proj = torch.eye(N).to(DTYPE).reshape(1, N, N) if i == 0 else rnd(1, N, N)
        sd[p + "attention.dyn_w_proj.pre_proj.w"] = proj.clone()
        sd[p + "attention.dyn_w_proj.post_proj.w"] = proj.clone()
        sd[p + "attention.kv_cache.k_cache"] = torch.zeros(1, N, S, D, dtype=DTYPE)
        sd[p + "attention.kv_cache.v_cache"] = torch.zeros(1, N, S, D, dtype=DTYPE)
        sd[p + "attention.kv_cache.kw_cache"] = torch.zeros(1, S, 2, N, N, dtype=DTYPE)
        sd[p + "ffn_norm.weight"] = rnd(E)
        sd[p + "feed_forward.w1.weight"] = rnd(F, E)
        sd[p + "feed_forward.w3.weight"] = rnd(F, E)
        sd[p + "feed_forward.w2.weight"] = rnd(E, F)
    sd["norm.weight"] = rnd(E)
    sd["output.weight"] = rnd(V, E)
    return sd


SAFETENSORS_DTYPE = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16", torch.int32: "I32"}


def write_safetensors(path, tensors):
    """Plain safetensors: u64 LE header length, JSON header, raw little-endian data."""
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        t = tensors[name].contiguous()
        raw = t.reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b""
        header[name] = {"dtype": SAFETENSORS_DTYPE[t.dtype], "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    h = json.dumps(header, separators=(",", ":")).encode()
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


class CustomClass:
    """Stands for any user class a hostile pickle might instantiate."""


class CallsOsSystem:
    def __reduce__(self):
        return (os.system, ("echo this must never run",))


def main(out):
    torch.manual_seed(20240611)
    for d in ("single", "sharded", "split_qkv"):
        os.makedirs(os.path.join(out, d), exist_ok=True)

    sd = dcformer_state_dict(split_qkv=False)
    torch.save(sd, os.path.join(out, "single", "pytorch_model.bin"))
    write_safetensors(os.path.join(out, "expected.safetensors"), sd)

    names = list(sd)
    half = len(names) // 2
    weight_map = {}
    for k, part in enumerate((names[:half], names[half:]), start=1):
        fname = f"pytorch_model-0000{k}-of-00002.bin"
        torch.save(collections.OrderedDict((n, sd[n]) for n in part), os.path.join(out, "sharded", fname))
        weight_map.update({n: fname for n in part})
    total = sum(t.numel() * t.element_size() for t in sd.values())
    with open(os.path.join(out, "sharded", "pytorch_model.bin.index.json"), "w") as f:
        json.dump({"metadata": {"total_size": total}, "weight_map": weight_map}, f, indent=2)

    split = dcformer_state_dict(split_qkv=True)
    torch.save(split, os.path.join(out, "split_qkv", "pytorch_model.bin"))
    write_safetensors(os.path.join(out, "expected_split_qkv.safetensors"), split)

    base = torch.arange(24, dtype=torch.float32).reshape(4, 6) / 8
    extras = collections.OrderedDict()
    extras["f32"] = torch.randn(3, 5)
    extras["bf16"] = torch.randn(2, 3).to(torch.bfloat16)
    extras["i64"] = torch.tensor([0, 1, -5, 2**31 - 1], dtype=torch.int64)
    extras["i32"] = torch.tensor([[7, -8]], dtype=torch.int32)
    extras["transposed"] = base.t()          # strides (1, 6): gathered
    extras["rows"] = base[1:3]               # shares base's storage at offset 6: mapped
    extras["base"] = base
    extras["scalar"] = torch.tensor(1.5, dtype=torch.float16)
    extras["param"] = torch.nn.Parameter(torch.randn(4))
    buf = io.BytesIO()                       # saved through a buffer, so the archive folder is "archive"
    torch.save(extras, buf)
    with open(os.path.join(out, "extras.bin"), "wb") as f:
        f.write(buf.getvalue())
    torch.save(extras, os.path.join(out, "extras_protocol4.bin"), pickle_protocol=4)
    expected = {k: v.detach().contiguous() for k, v in extras.items()}
    expected["i64"] = expected["i64"].to(torch.int32)
    write_safetensors(os.path.join(out, "expected_extras.safetensors"), expected)

    torch.save(collections.OrderedDict(w=torch.zeros(2), evil=CallsOsSystem()),
               os.path.join(out, "forbidden_os_system.bin"))
    torch.save(collections.OrderedDict(w=torch.zeros(2), evil=CustomClass()),
               os.path.join(out, "forbidden_custom_class.bin"))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "model-zoo/src/test/resources/checkpoints")

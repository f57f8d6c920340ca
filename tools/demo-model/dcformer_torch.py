#!/usr/bin/env python3
"""DCFormer++ (and its plain-MHA baseline) in PyTorch: training, export, spec-§8 evaluation.

The maths follows dcformer-spec.md: RMSNorm blocks, fused wqkv, per-head qk-norm (eps 1e-6,
shared gains), RoPE in half layout from an unrounded fp32 table, dynamic compose weights
(exact GELU, RMS-normalised w1 over heads, tanh gates), logits scaled by 1/sqrt(D) before
pre-compose, causal/window mask after pre-compose, softmax, post-compose, times V, SwiGLU FFN.
The baseline is the same network with both composes off and no dyn_w_proj parameters.

Usage:
  dcformer_torch.py train --data DIR --tokenizer tokenizer.json --out DIR [--steps N] [--max-minutes M]
  dcformer_torch.py eval  --model DIR --data FILE.jsonl
  dcformer_torch.py ref-logits --model DIR --prompt TEXT --out FILE.json
"""
import argparse
import json
import math
import os
import re
import struct
import sys
import time

# one thread per BLAS call: torch's own pool drives the cores; OpenBLAS's pthreads on top of it
# oversubscribed the 2-core machine and made a training step 2x slower
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bpe_tokenizer import Tokenizer  # noqa: E402

C = 4  # compose slots: 0 pre/query, 1 pre/key, 2 post/query, 3 post/key
I_RANK = 2


class RMSNorm(nn.Module):
    def __init__(self, dim, eps):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        return self.weight * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps))


class HeadNorm(nn.Module):
    """qk-norm: per head over D, one gain vector shared by all heads, eps 1e-6."""

    def __init__(self, head_dim):
        super().__init__()
        self.scale = nn.Parameter(torch.ones(head_dim))

    def forward(self, x):  # [B, T, N, D]
        return self.scale * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-6))


class DynWProj(nn.Module):
    """Dynamic compose weights of every token, spec §2.2."""

    def __init__(self, dim, n_head):
        super().__init__()
        k = 4 * n_head
        self.n_head, self.k = n_head, k
        self.dw1 = nn.Parameter(torch.randn(dim, 1, C, k) / math.sqrt(dim))         # [E, 1, 4, K]
        self.qkw = nn.Parameter(torch.randn(1, C, k, 2 * I_RANK, n_head) * 0.05 / math.sqrt(k))  # [1, 4, K, 2I, N]
        self.dd = nn.Parameter(torch.randn(dim, 1, C * n_head) * 0.1 / math.sqrt(dim))  # [E, 1, 4N]

    def forward(self, a):  # a: [B, T, E]
        # plain 2-D matmul / bmm: einsum here gave sporadic garbage gradients with Debian's torch 1.13
        b, t, e = a.shape
        u = F.gelu(a.reshape(b * t, e) @ self.dw1.reshape(e, C * self.k))            # [BT, 4K], exact GELU
        u = u.reshape(b * t, C, self.k).transpose(0, 1)                                # [4, BT, K]
        r = torch.bmm(u, self.qkw[0].reshape(C, self.k, 2 * I_RANK * self.n_head))    # [4, BT, 2I*N]
        r = r.transpose(0, 1).reshape(b, t, C, 2 * I_RANK, self.n_head)               # [B, T, 4, 2I, N]
        w1 = r[:, :, :, :I_RANK]
        w1 = w1 * torch.rsqrt(w1.pow(2).mean(-1, keepdim=True) + 1e-6)                 # RMS over heads
        w2 = r[:, :, :, I_RANK:]
        dg = torch.tanh(a.reshape(b * t, e) @ self.dd.reshape(e, C * self.n_head))    # [BT, 4N]
        return w1, w2, dg.reshape(b, t, C, self.n_head)


def compose(A, w1, w2, dg, cq, ck):
    """A: [B, N, T, S]; query slot cq from token t, key slot ck from token s (spec §2.3).

    Out[m,t,s] = sum_n A[n,t,s] (delta_nm + Q_t[n,m] + K_s[n,m]) with
    Q_t = w1_t^T w2_t + diag(dg_t) and K_s likewise; the loop over source heads n keeps every
    intermediate at the size of A (N is small).
    """
    q = (w1[:, :, cq].unsqueeze(-1) * w2[:, :, cq].unsqueeze(-2)).sum(2) + torch.diag_embed(dg[:, :, cq])
    k = (w1[:, :, ck].unsqueeze(-1) * w2[:, :, ck].unsqueeze(-2)).sum(2) + torch.diag_embed(dg[:, :, ck])
    q = q.permute(0, 2, 3, 1)                                               # [B, N, M, T]
    k = k.permute(0, 2, 3, 1)                                               # [B, N, M, S]
    out = A
    for n in range(A.shape[1]):
        out = out + A[:, n:n + 1] * (q[:, n, :, :, None] + k[:, n, :, None, :])
    return out


def rope_table(head_dim, positions, base):
    """cos, sin [T, D/2] in fp32, not rounded (spec §1.4)."""
    inv_freq = 1.0 / (base ** (torch.arange(0, head_dim, 2, dtype=torch.float32) / head_dim))
    theta = positions.to(torch.float32)[:, None] * inv_freq[None, :]
    return torch.cos(theta), torch.sin(theta)


def apply_rope(x, cos, sin):  # x: [B, T, N, D], half layout, canonical placement
    h = x.shape[-1] // 2
    a, b = x[..., :h], x[..., h:]
    c, s = cos[None, :, None, :], sin[None, :, None, :]
    return torch.cat([a * c - b * s, b * c + a * s], dim=-1)


def visible_mask(t, window):
    """[T, T] bool: key s visible to query t (global, or the canonical W-key window)."""
    q = torch.arange(t)[:, None]
    k = torch.arange(t)[None, :]
    m = k <= q
    if window:
        m = m & (k >= q - window + 1)
    return m


class Attention(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        e, n = cfg["dim"], cfg["n_head"]
        self.n, self.d = n, e // n
        self.use_dcmha = cfg["use_dcmha"]
        self.use_qk_norm = cfg.get("use_qk_norm", True)
        self.wqkv = nn.Linear(e, 3 * e, bias=False)
        self.wo = nn.Linear(e, e, bias=False)
        if self.use_qk_norm:
            self.q_norm = HeadNorm(self.d)
            self.k_norm = HeadNorm(self.d)
        if self.use_dcmha:
            self.dyn_w_proj = DynWProj(e, n)

    def forward(self, a, cos, sin, mask):
        b, t, e = a.shape
        q, k, v = self.wqkv(a).split(e, dim=-1)
        q, k = q.view(b, t, self.n, self.d), k.view(b, t, self.n, self.d)
        if self.use_qk_norm:
            q, k = self.q_norm(q), self.k_norm(k)
        q, k = apply_rope(q, cos, sin), apply_rope(k, cos, sin)
        v = v.view(b, t, self.n, self.d)
        logits = torch.einsum("btnd,bsnd->bnts", q, k) / math.sqrt(self.d)   # [B, N, T, S]
        if self.use_dcmha:
            w1, w2, dg = self.dyn_w_proj(a)
            logits = compose(logits, w1, w2, dg, 0, 1)
        logits = logits.masked_fill(~mask, float("-inf"))                   # mask after pre-compose
        p = torch.softmax(logits, dim=-1)
        if self.use_dcmha:
            p = compose(p, w1, w2, dg, 2, 3)
        o = torch.einsum("bnts,bsnd->btnd", p, v).reshape(b, t, e)
        return self.wo(o)


class FeedForward(nn.Module):
    """SwiGLU; with mgate_dim > 0 the R25 grouped gate of spec §1.5 (only used to check the golden)."""

    def __init__(self, e, f, mgate_dim=0):
        super().__init__()
        self.w1 = nn.Linear(e, f, bias=False)
        self.w2 = nn.Linear(f, e, bias=False)
        self.w3 = nn.Linear(e, f, bias=False)
        self.mgate_dim = mgate_dim
        if mgate_dim:
            self.mg = nn.Linear(e, mgate_dim, bias=False)

    def forward(self, x):
        u = F.silu(self.w1(x)) * self.w3(x)                                  # [B, T, F]
        if self.mgate_dim:
            g = torch.softmax(self.mg(x), dim=-1)                             # [B, T, Mg]
            u = (u.unflatten(-1, (self.mgate_dim, -1)) * g.unsqueeze(-1)).flatten(-2)
        return self.w2(u)


class Block(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.attention_norm = RMSNorm(cfg["dim"], cfg["norm_eps"])
        self.attention = Attention(cfg)
        self.ffn_norm = RMSNorm(cfg["dim"], cfg["norm_eps"])
        self.feed_forward = FeedForward(cfg["dim"], cfg["intermediate_size"],
                                        cfg["mgate_dim"] if cfg.get("mgate") else 0)

    def forward(self, x, cos, sin, mask):
        h = x + self.attention(self.attention_norm(x), cos, sin, mask)
        return h + self.feed_forward(self.ffn_norm(h))


class DCFormer(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.tok_embeddings = nn.Embedding(cfg["vocab_size"], cfg["dim"])
        self.layers = nn.ModuleList([Block(cfg) for _ in range(cfg["n_layer"])])
        self.norm = RMSNorm(cfg["dim"], cfg["norm_eps"])
        self.output = nn.Linear(cfg["dim"], cfg["vocab_size"], bias=False)
        for name, p in self.named_parameters():
            if name.endswith(("wqkv.weight", "w1.weight", "w3.weight", "output.weight", "tok_embeddings.weight")):
                nn.init.normal_(p, std=0.02)
            elif name.endswith(("wo.weight", "w2.weight")):
                nn.init.normal_(p, std=0.02 / math.sqrt(2 * cfg["n_layer"]))

    def forward(self, tokens):  # [B, T] -> logits [B, T, V]
        t = tokens.shape[1]
        cos, sin = rope_table(self.cfg["dim"] // self.cfg["n_head"], torch.arange(t), self.cfg["rope_base"])
        # plain row indexing (index backward) instead of nn.Embedding's backward, which produced
        # sporadic non-finite gradients with Debian's torch 1.13 build
        x = self.tok_embeddings.weight[tokens]
        for i, layer in enumerate(self.layers):
            mask = visible_mask(t, layer_window(self.cfg, i))
            x = layer(x, cos, sin, mask)
        return self.output(self.norm(x))


WINDOW_PATTERNS = {None: "LG", "LG": "LG", "LGLL": "LGLL", "LGL6": "LGLLLLLL"}


def layer_window(cfg, i):
    """Window of layer i (0 = global), spec §1.6: local layers use window_size for every pattern."""
    w = cfg.get("window_size")
    if not w:
        return 0
    pattern = WINDOW_PATTERNS[cfg.get("window_type")]
    return w if pattern[i % len(pattern)] == "L" else 0


# ----------------------------------------------------------------------------- data

BRACKET = re.compile(r"\[ (.*?) \]")


def strip_with_spans(texts):
    """Natural text without '[ ' / ' ]' and the char spans of ' answer' (leading space included)."""
    out, spans, last = [], [], 0
    for m in BRACKET.finditer(texts):
        out.append(texts[last:m.start()])
        start = sum(len(s) for s in out)
        out.append(m.group(1))
        spans.append((start - 1, start + len(m.group(1))))  # include the space before '['
        last = m.end()
    out.append(texts[last:])
    return "".join(out), spans


def encode_sample(tok, texts):
    """ids [T] and a list of answer spans as token index lists."""
    text, spans = strip_with_spans(texts)
    enc = tok.encode_with_offsets(text)
    ids = [i for i, _, _ in enc]
    answer_spans = []
    for s0, s1 in spans:
        idx = [j for j, (_, a, b) in enumerate(enc) if a >= s0 and b <= s1]
        covered = "".join(text[enc[j][1]:enc[j][2]] for j in idx)
        if covered != text[s0:s1] or not idx or idx[0] == 0:
            raise ValueError(f"answer span {text[s0:s1]!r} not aligned to tokens")
        answer_spans.append(idx)
    return ids, answer_spans


def load_jsonl(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


# ----------------------------------------------------------------------------- safetensors

def save_safetensors(path, tensors, dtype):
    """Minimal writer: 8-byte LE header size, JSON header, raw little-endian data."""
    header, blobs, off = {}, [], 0
    for name, t in tensors.items():
        t = t.detach().contiguous()
        if dtype == "BF16":
            raw = (bf16_round(t).view(torch.int32).numpy().view(np.uint32) >> 16).astype("<u2").tobytes()
        else:
            raw = t.to(torch.float32).numpy().astype("<f4").tobytes()
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    header["__metadata__"] = {"format": "pt"}
    hb = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hb += b" " * ((8 - len(hb) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hb)))
        f.write(hb)
        for b in blobs:
            f.write(b)


def load_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, h in header.items():
        if name == "__metadata__":
            continue
        a, b = h["data_offsets"]
        buf = data[a:b]
        if h["dtype"] == "BF16":
            bits = np.frombuffer(buf, dtype="<u2").astype(np.uint32) << 16
            arr = bits.view(np.float32)
        elif h["dtype"] == "F32":
            arr = np.frombuffer(buf, dtype="<f4")
        elif h["dtype"] == "I32":
            arr = np.frombuffer(buf, dtype="<i4")
        else:
            raise ValueError(f"{path}: tensor {name} has unsupported dtype {h['dtype']}")
        out[name] = torch.from_numpy(arr.copy()).reshape(h["shape"])
    return out


def bf16_round(t):
    """Round fp32 to the nearest bf16 (ties to even), returned as fp32."""
    bits = t.to(torch.float32).contiguous().view(torch.int32).numpy().view(np.uint32).astype(np.uint64)
    rounded = (((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16) << 16).astype(np.uint32)
    return torch.from_numpy(rounded.view(np.float32).copy()).reshape(t.shape)


def hf_config(cfg):
    return {
        "architectures": ["DCFormer"],
        "model_type": "dcformer",
        "block_size": cfg["block_size"],
        "vocab_size": cfg["vocab_size"],
        "n_layer": cfg["n_layer"],
        "n_head": cfg["n_head"],
        "n_local_heads": cfg["n_head"],
        "dim": cfg["dim"],
        "head_dim": cfg["dim"] // cfg["n_head"],
        "intermediate_size": cfg["intermediate_size"],
        "rope_base": cfg["rope_base"],
        "norm_eps": cfg["norm_eps"],
        "use_dcmha": cfg["use_dcmha"],
        "use_qk_norm": cfg["use_qk_norm"],
        "window_size": cfg["window_size"],
        "window_type": None,
        "query_wise": False,
        "mgate": False,
        "tie_word_embeddings": False,
        "bos_token_id": 0,
        "eos_token_id": 0,
        "torch_dtype": "bfloat16",
        "trained_sequence_length": cfg["train_seq_len"],
    }


def load_model(model_dir):
    with open(os.path.join(model_dir, "config.json")) as f:
        hc = json.load(f)
    cfg = {k: hc.get(k) for k in ("block_size", "vocab_size", "n_layer", "n_head", "dim", "intermediate_size",
                                  "rope_base", "norm_eps", "use_dcmha", "use_qk_norm", "window_size", "window_type",
                                  "mgate", "mgate_dim")}
    cfg["use_qk_norm"] = bool(cfg["use_qk_norm"])  # absent means off, as in the Java engine
    model = DCFormer(cfg)
    sd = load_safetensors(os.path.join(model_dir, "model.safetensors"))
    model.load_state_dict(sd, strict=True)
    model.eval()
    tok_path = os.path.join(model_dir, "tokenizer.json")
    return model, (Tokenizer.load(tok_path) if os.path.exists(tok_path) else None)


# ----------------------------------------------------------------------------- evaluation

@torch.no_grad()
def evaluate(model, tok, samples):
    """Spec §8: one teacher-forced pass per sample; a span is right iff every token is the argmax."""
    per_task = {}
    for smp in samples:
        ids, spans = encode_sample(tok, smp["texts"])
        logits = model(torch.tensor([ids]))[0]
        pred = logits.argmax(-1).tolist()
        res = per_task.setdefault(smp["task_id"], [0, 0])
        for idx in spans:
            res[0] += all(pred[j - 1] == ids[j] for j in idx)
            res[1] += 1
    accs = {k: v[0] / v[1] for k, v in per_task.items()}
    total = sum(v[0] for v in per_task.values()) / sum(v[1] for v in per_task.values())
    return sum(accs.values()) / len(accs), total, accs


# ----------------------------------------------------------------------------- training

VARIANTS = (("dcformer", True), ("mha", False))


def make_batch(encoded, gen, args):
    """One training batch: crops of k consecutive lines (k drawn from --crop), about batch_tokens tokens."""
    k = args.crop[int(torch.randint(len(args.crop), (1,), generator=gen))]
    batch_size = max(1, args.batch_tokens // (26 * k))
    batch = []
    for i in torch.randint(len(encoded), (batch_size,), generator=gen).tolist():
        start = int(torch.randint(len(encoded[i]) - k + 1, (1,), generator=gen))
        ids = [a for ln in encoded[i][start:start + k] for a in ln[0]]
        w = [a for ln in encoded[i][start:start + k] for a in ln[1]]
        batch.append((ids[:args.seq_len], w[:args.seq_len]))
    t = max(len(ids) for ids, _ in batch)
    x = torch.zeros(batch_size, t, dtype=torch.long)           # [B, T], padded with id 0
    wt = torch.zeros(batch_size, t)                            # [B, T], loss weight 0 on padding
    for r, (ids, w) in enumerate(batch):
        x[r, :len(ids)] = torch.tensor(ids)
        wt[r, :len(ids)] = torch.tensor(w)
    return x, wt


def train(args):
    """Trains DCFormer++ and the MHA baseline in lockstep: same batches, same schedule, same step count."""
    torch.set_num_threads(args.threads)
    tok = Tokenizer.load(args.tokenizer)
    t0 = time.time()
    encoded = []  # per sample: list of lines, each (ids, weights), every line starting with "\n"
    for smp in load_jsonl(os.path.join(args.data, "train.jsonl")):
        enc_lines = []
        for line in smp["texts"].split("\n")[1:-1]:
            ids, spans = encode_sample(tok, "\n" + line)
            w = [args.other_weight] * len(ids)
            for idx in spans:
                for j in idx:
                    w[j] = args.answer_weight
            enc_lines.append((ids, w))
        encoded.append(enc_lines)
    print(f"encoded {len(encoded)} samples in {time.time() - t0:.1f}s", flush=True)

    runs = []
    for name, dcmha in VARIANTS:
        if args.only and name != args.only:
            continue
        cfg = {"block_size": args.block_size, "vocab_size": max(tok.vocab.values()) + 1, "n_layer": args.layers,
               "n_head": args.heads, "dim": args.dim, "intermediate_size": args.ffn, "rope_base": 10000.0,
               "norm_eps": 1e-6, "use_dcmha": dcmha, "use_qk_norm": args.qk_norm, "window_size": None,
               "train_seq_len": args.seq_len}
        torch.manual_seed(args.seed)
        model = DCFormer(cfg)
        decay = [p for p in model.parameters() if p.dim() >= 2]
        no_decay = [p for p in model.parameters() if p.dim() < 2]
        opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.05}, {"params": no_decay, "weight_decay": 0.0}],
                                lr=args.lr, betas=(0.9, 0.98))
        runs.append({"name": name, "cfg": cfg, "model": model, "opt": opt, "skipped": 0, "log": [], "seconds": 0.0,
                     "params": sum(p.numel() for p in model.parameters())})
        print(f"{name}: params {runs[-1]['params']}", flush=True)

    gen = torch.Generator().manual_seed(args.seed)
    probe = load_jsonl(os.path.join(args.data, "heldout.jsonl"))[:48]
    t0 = time.time()
    step = 0
    # progress = max(step fraction, wall-clock fraction): models trained in one process share lr and step
    # count; with --only (one process per model) a --max-minutes cut can stop them at different steps
    # (the probe on held-out samples below is only printed, never used to pick a checkpoint)
    while True:
        progress = max(step / args.steps, (time.time() - t0) / (args.max_minutes * 60))
        if progress >= 1.0:
            break
        lr = args.lr * min(1.0, (step + 1) / args.warmup) * 0.5 * (1 + math.cos(math.pi * progress))
        x, wt = make_batch(encoded, gen, args)
        w = wt[:, 1:].reshape(-1)
        for run in runs:
            ts = time.time()
            model, opt = run["model"], run["opt"]
            for g in opt.param_groups:
                g["lr"] = lr
            logits = model(x[:, :-1])
            ce = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), x[:, 1:].reshape(-1), reduction="none")
            loss = (ce * w).sum() / w.sum()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            if not all(torch.isfinite(p.grad).all() for p in model.parameters()):
                run["skipped"] += 1
                print(f"{run['name']} step {step}: non-finite gradient, update skipped", flush=True)
            else:
                torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                opt.step()
            run["seconds"] += time.time() - ts
            if (step + 1) % 25 == 0 or step + 1 == 5:
                ans = (ce * (w > 1)).sum() / (w > 1).sum().clamp(min=1)
                msg = (f"{run['name']} step {step + 1} loss {loss.item():.4f} answer-ce {ans.item():.4f} "
                       f"lr {lr:.2e} {time.time() - t0:.0f}s")
                print(msg, flush=True)
                run["log"].append(msg)
        step += 1
        if args.eval_every and step % args.eval_every == 0:
            for run in runs:
                run["model"].eval()
                macro, _, _ = evaluate(run["model"], tok, probe)
                run["model"].train()
                msg = f"{run['name']} step {step} probe held-out accuracy {macro:.3f} {time.time() - t0:.0f}s"
                print(msg, flush=True)
                run["log"].append(msg)

    heldout = load_jsonl(os.path.join(args.data, "heldout.jsonl"))
    seen = load_jsonl(os.path.join(args.data, "test-seen.jsonl"))
    for run in runs:
        # export with BF16 weights, then measure the exported model (weights as the Java side reads them)
        out = os.path.join(args.out, run["name"])
        os.makedirs(out, exist_ok=True)
        save_safetensors(os.path.join(out, "model.safetensors"), run["model"].state_dict(), "BF16")
        with open(os.path.join(out, "config.json"), "w") as f:
            json.dump(hf_config(run["cfg"]), f, indent=2)
            f.write("\n")
        with open(args.tokenizer) as src, open(os.path.join(out, "tokenizer.json"), "w") as dst:
            dst.write(src.read())
        exported, _ = load_model(out)
        h_macro, h_micro, h_tasks = evaluate(exported, tok, heldout)
        s_macro, s_micro, _ = evaluate(exported, tok, seen) if not args.skip_seen else (None, None, None)
        report = {"use_dcmha": run["cfg"]["use_dcmha"], "params": run["params"], "steps": step,
                  "skipped_steps": run["skipped"], "batch_tokens": args.batch_tokens,
                  "train_seconds_own": round(run["seconds"], 1), "train_seconds_wall_both": round(time.time() - t0, 1),
                  "threads": args.threads,
                  "heldout_accuracy_task_mean": round(h_macro, 4), "heldout_accuracy_span": round(h_micro, 4),
                  "test_seen_accuracy_task_mean": s_macro and round(s_macro, 4),
                  "test_seen_accuracy_span": s_micro and round(s_micro, 4),
                  "heldout_per_task": {k: round(v, 4) for k, v in sorted(h_tasks.items(), key=lambda kv: int(kv[0][4:]))},
                  "log_tail": run["log"][-5:]}
        print(json.dumps(report, indent=2), flush=True)
        if args.report_dir:
            with open(os.path.join(args.report_dir, f"report-{run['name']}.json"), "w") as f:
                json.dump(report, f, indent=2)
                f.write("\n")


def cmd_eval(args):
    torch.set_num_threads(args.threads)
    model, tok = load_model(args.model)
    macro, micro, tasks = evaluate(model, tok, load_jsonl(args.data))
    print(json.dumps({"task_mean": macro, "span": micro, "per_task": tasks}, indent=2))


@torch.no_grad()
def cmd_ref_logits(args):
    torch.set_num_threads(args.threads)
    model, tok = load_model(args.model)
    ids = tok.encode(args.prompt)
    logits = model(torch.tensor([ids]))[0]
    out = {"model": os.path.basename(os.path.normpath(args.model)), "prompt": args.prompt, "token_ids": ids,
           "argmax": logits.argmax(-1).tolist(),
           "logits": [[round(float(v), 6) for v in row] for row in logits]}
    with open(args.out, "w") as f:
        json.dump(out, f)
        f.write("\n")
    print(f"wrote {len(ids)} x {logits.shape[1]} logits to {args.out}; "
          f"greedy next token {tok.decode([out['argmax'][-1]])!r}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("train")
    t.add_argument("--data", required=True)
    t.add_argument("--tokenizer", required=True)
    t.add_argument("--out", required=True, help="parent folder: writes OUT/dcformer and OUT/mha")
    t.add_argument("--only", choices=[v[0] for v in VARIANTS], help="train one of the two only")
    t.add_argument("--report-dir", help="where report-{dcformer,mha}.json go")
    t.add_argument("--skip-seen", action="store_true", help="evaluate on heldout.jsonl only")
    t.add_argument("--dim", type=int, default=64)
    t.add_argument("--heads", type=int, default=4)
    t.add_argument("--layers", type=int, default=4)
    t.add_argument("--ffn", type=int, default=176)
    t.add_argument("--block-size", type=int, default=1024)
    t.add_argument("--seq-len", type=int, default=256)
    t.add_argument("--batch-tokens", type=int, default=1536)
    t.add_argument("--steps", type=int, default=180)
    t.add_argument("--warmup", type=int, default=30)
    t.add_argument("--lr", type=float, default=4e-3)
    t.add_argument("--answer-weight", type=float, default=4.0)
    t.add_argument("--other-weight", type=float, default=1.0, help="loss weight of every token outside the answers")
    t.add_argument("--max-minutes", type=float, default=45.0)
    t.add_argument("--threads", type=int, default=1)
    t.add_argument("--seed", type=int, default=1)
    t.add_argument("--qk-norm", action=argparse.BooleanOptionalAction, default=True,
                   help="per-head RMS norm of q and k (bounds the attention logits by the learned gains)")
    t.add_argument("--crop", type=lambda v: [int(x) for x in v.split(",")], default=[1, 1, 2, 2, 4, 8],
                   help="lines per training sequence, drawn uniformly from this list")
    t.add_argument("--eval-every", type=int, default=0,
                   help="every N steps, print held-out accuracy on the first 48 held-out samples")
    e = sub.add_parser("eval")
    e.add_argument("--model", required=True)
    e.add_argument("--data", required=True)
    e.add_argument("--threads", type=int, default=1)
    r = sub.add_parser("ref-logits")
    r.add_argument("--model", required=True)
    r.add_argument("--prompt", required=True)
    r.add_argument("--out", required=True)
    r.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    {"train": train, "eval": cmd_eval, "ref-logits": cmd_ref_logits}[args.cmd](args)


if __name__ == "__main__":
    main()

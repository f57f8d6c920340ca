#!/usr/bin/env python3
"""Checks dcformer_torch.py against the official reference outputs in /work/shared/golden/dcformer_tiny.

Usage: check_golden.py [GOLDEN_DIR]
"""
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dcformer_torch import load_model, load_safetensors  # noqa: E402


def main():
    gdir = sys.argv[1] if len(sys.argv) > 1 else "/work/shared/golden/dcformer_tiny"
    torch.set_num_threads(1)
    model, _ = load_model(gdir)
    ref = load_safetensors(os.path.join(gdir, "reference.safetensors"))
    tokens = ref["tokens"].long()
    with torch.no_grad():
        logits = model(tokens[None])[0]
    want = ref["prefill_logits"]
    rel = ((logits - want).norm() / want.norm()).item()
    mx = (logits - want).abs().max().item()
    print(f"prefill logits vs official reference: relative L2 {rel:.2e}, max abs {mx:.2e}")
    ok = rel < 1e-5 and mx < 1e-4
    print("OK" if ok else "MISMATCH")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()

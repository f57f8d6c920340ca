#!/usr/bin/env python3
"""Where a demo model's answers come from: right, another candidate of the same line, or elsewhere.

Every query line offers three candidates of the answer's kind: its three people (who-questions), its
three objects (owns-questions) or their three categories (kind-of questions). A model that has learned
the format and the categories but not which person owns which object picks one of these at random and
scores about a third; this script tells that apart from a model that answers outside the line.
The first token of the predicted answer is compared (teacher-forced, as in spec §8).

Usage: analyse_errors.py --model DIR --data FILE.jsonl [--json OUT]
"""
import argparse
import json
import os
import re
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dcformer_torch import encode_sample, load_jsonl, load_model  # noqa: E402
from make_data import OBJECTS  # noqa: E402

CATEGORY_OF = {noun: cat for cat, _, noun, _ in OBJECTS}
FACT = re.compile(r"(\w+) has (?:an? )?(\w+)\.|The (\w+) (?:is|are) (\w+)'s\.")
KIND = {0: "category", 1: "category", 2: "name", 3: "name", 4: "object", 5: "object"}  # by task family


def candidates(line, family):
    facts = [(m.group(1), m.group(2)) if m.group(1) else (m.group(4), m.group(3)) for m in FACT.finditer(line)]
    kind = KIND[family]
    if kind == "name":
        return {n for n, _ in facts}
    if kind == "object":
        return {o for _, o in facts}
    return {CATEGORY_OF[o] for _, o in facts}


@torch.no_grad()
def analyse(model, tok, samples):
    per_task = {}
    for smp in samples:
        task = int(smp["task_id"][4:])
        ids, spans = encode_sample(tok, smp["texts"])
        pred = model(torch.tensor([ids]))[0].argmax(-1).tolist()
        queries = [ln for ln in smp["texts"].split("\n") if "[ " in ln]
        assert len(queries) == len(spans), smp
        tally = per_task.setdefault(task, {"spans": 0, "right": 0, "other_candidate": 0, "elsewhere": 0})
        for line, idx in zip(queries, spans):
            tally["spans"] += 1
            if all(pred[j - 1] == ids[j] for j in idx):
                tally["right"] += 1
                continue
            first_word = tok.decode([pred[idx[0] - 1]]).strip()
            cands = {c.split()[0] for c in candidates(line, task // 2)}
            tally["other_candidate" if first_word in cands else "elsewhere"] += 1
    return per_task


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--json", help="also write the tallies here")
    args = ap.parse_args()
    torch.set_num_threads(1)
    model, tok = load_model(args.model)
    per_task = analyse(model, tok, load_jsonl(args.data))
    total = {k: sum(t[k] for t in per_task.values()) for k in ("spans", "right", "other_candidate", "elsewhere")}
    print(f"{'task':>6} {'spans':>6} {'right':>6} {'other candidate':>16} {'elsewhere':>10}")
    for task in sorted(per_task):
        t = per_task[task]
        print(f"{task:>6} {t['spans']:>6} {t['right']:>6} {t['other_candidate']:>16} {t['elsewhere']:>10}")
    print(f"{'all':>6} {total['spans']:>6} {total['right']:>6} {total['other_candidate']:>16} {total['elsewhere']:>10}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"per_task": per_task, "total": total}, f, indent=2)
            f.write("\n")


if __name__ == "__main__":
    main()

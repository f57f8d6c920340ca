#!/usr/bin/env python3
"""Generate the compositional "who has what kind of thing" data for the demo models.

Each sample mimics one line of the DCFormer paper's synthetic set: a JSON object
{"task_id": "taskK", "texts": "\n<8 lines>\n"} with two demonstration lines (plain answers)
followed by six query lines whose answer is written as "[ answer ]".

A question is answered by composing two look-ups: find the object an entity owns in the
context ("Tom has a fox."), then fetch an attribute of that object that only the training
data teaches (fox -> animal).

Splits:
  train      facts never pair a name with a category in HELD_OUT_PAIRS; a fraction of the samples
             (--knowledge) are "knowledge" samples that state the attribute directly
             ("The fox is a kind of [ animal ].") so the second hop is taught on its own too
  test-seen  same distribution as train, new random samples (for reference)
  heldout    the fact that every query line depends on pairs its name with a category
             from HELD_OUT_PAIRS: a (name, object) combination never seen in training

Usage: make_data.py --out DIR [--train N] [--per-task M] [--seed S]
"""
import argparse
import json
import os
import random

NAMES = [
    "Mary", "Tom", "Ruth", "Steven", "Karen", "Paul", "Nancy", "Jeff", "Carol", "Robert",
    "Sharon", "John", "Betty", "Linda", "Donald", "Helen", "Mark", "Lisa", "David", "Maria",
    "Kenneth", "Sarah", "William", "Laura", "James", "Susan", "George", "Anna", "Brian", "Emma",
]

# category -> list of (article, noun, plural); article "" for mass nouns / plurals
CATEGORIES = {
    "vehicle": [("a", "taxi", 0), ("a", "bus", 0), ("a", "car", 0), ("a", "truck", 0),
                ("a", "bicycle", 0), ("a", "jeep", 0)],
    "animal": [("a", "fox", 0), ("a", "dog", 0), ("a", "cat", 0), ("a", "horse", 0),
               ("a", "rabbit", 0), ("a", "tiger", 0)],
    "fruit": [("an", "apple", 0), ("a", "mango", 0), ("a", "lemon", 0), ("a", "plum", 0),
              ("an", "orange", 0), ("a", "banana", 0)],
    "food": [("a", "cake", 0), ("a", "pizza", 0), ("a", "steak", 0), ("a", "burger", 0),
             ("", "bread", 0), ("", "pasta", 0)],
    "drink": [("", "juice", 0), ("", "tea", 0), ("", "coffee", 0), ("", "soda", 0),
              ("", "beer", 0), ("", "milk", 0)],
    "clothing": [("a", "shirt", 0), ("a", "sweater", 0), ("", "jeans", 1), ("a", "coat", 0),
                 ("a", "hat", 0), ("", "shoes", 1)],
    "weapon": [("a", "sword", 0), ("a", "rifle", 0), ("a", "pistol", 0), ("a", "spear", 0),
               ("a", "knife", 0), ("a", "grenade", 0)],
    "sport": [("a", "football", 0), ("a", "basketball", 0), ("a", "baseball", 0),
              ("a", "volleyball", 0), ("a", "racket", 0), ("a", "puck", 0)],
    "stationery": [("a", "pen", 0), ("a", "pencil", 0), ("a", "ruler", 0), ("an", "eraser", 0),
                   ("a", "notebook", 0), ("a", "stapler", 0)],
    "musical instrument": [("a", "violin", 0), ("a", "guitar", 0), ("a", "piano", 0),
                           ("a", "drum", 0), ("a", "flute", 0), ("a", "trumpet", 0)],
    "insect": [("a", "bee", 0), ("an", "ant", 0), ("a", "beetle", 0), ("a", "mosquito", 0),
               ("a", "moth", 0), ("a", "wasp", 0)],
}
CATS = list(CATEGORIES)
OBJECTS = [(cat, art, noun, pl) for cat in CATS for (art, noun, pl) in CATEGORIES[cat]]


def held_out_pairs(seed=1234, fraction=0.2):
    """(name, category) pairs never stated as a fact in training; every name keeps most categories."""
    rng = random.Random(seed)
    pairs = set()
    for name in NAMES:
        k = max(1, round(fraction * len(CATS)))
        for cat in rng.sample(CATS, k):
            pairs.add((name, cat))
    return pairs


HELD = held_out_pairs()


def fact(style, name, obj):
    cat, art, noun, pl = obj
    if style == "has":
        return f"{name} has {art + ' ' if art else ''}{noun}."
    verb = "are" if pl else "is"
    return f"The {noun} {verb} {name}'s."


class Sampler:
    """Draws (name, object) facts respecting the split constraint."""

    def __init__(self, rng, split):
        self.rng = rng
        self.split = split

    def allowed(self, name, cat, key):
        held = (name, cat) in HELD
        if self.split == "heldout":
            return held if key else True
        return not held  # train / test-seen: never a held-out pair anywhere

    def obj(self, name, cats, key, exclude=()):
        """An object of one of `cats` that `name` may own under the split rule."""
        options = [o for o in OBJECTS if o[0] in cats and o[2] not in exclude
                   and self.allowed(name, o[0], key)]
        return self.rng.choice(options) if options else None


def family_line(fam, style, s, demo):
    """One line of task family `fam` (0..5). Returns (context, question, answer) or None to retry."""
    rng = s.rng
    key = not demo
    if fam in (0, 4):
        # A owns two things, B one; "A does not have a kind of [cat(B's)]" / "A does not own [B's]"
        a, b = rng.sample(NAMES, 2)
        yb = s.obj(b, CATS, key)
        if yb is None:
            return None
        rest = [c for c in CATS if c != yb[0]]
        c1, c2 = rng.sample(rest, 2)
        xa = s.obj(a, [c1], False)
        za = s.obj(a, [c2], False)
        if xa is None or za is None:
            return None
        facts = [(a, xa), (b, yb), (a, za)]
        rng.shuffle(facts)
        if fam == 0:
            q, ans = f"{a} does not have a kind of", yb[0]
        else:
            q, ans = f"{a} does not own", yb[2]
    elif fam in (1, 5):
        # three people, three categories; "B has a kind of [cat]" / "B owns [obj]"
        a, b, c = rng.sample(NAMES, 3)
        yb = s.obj(b, CATS, key)
        if yb is None:
            return None
        rest = [x for x in CATS if x != yb[0]]
        c1, c2 = rng.sample(rest, 2)
        xa, zc = s.obj(a, [c1], False), s.obj(c, [c2], False)
        if xa is None or zc is None:
            return None
        facts = [(a, xa), (b, yb), (c, zc)]
        rng.shuffle(facts)
        if fam == 1:
            q, ans = f"{b} has a kind of", yb[0]
        else:
            q, ans = f"{b} owns", yb[2]
    elif fam == 2:
        # "Who has a kind of C? [B]": only B owns a thing of category C
        a, b, c = rng.sample(NAMES, 3)
        yb = s.obj(b, CATS, key)
        if yb is None:
            return None
        rest = [x for x in CATS if x != yb[0]]
        c1, c2 = rng.sample(rest, 2)
        xa, zc = s.obj(a, [c1], False), s.obj(c, [c2], False)
        if xa is None or zc is None:
            return None
        facts = [(a, xa), (b, yb), (c, zc)]
        rng.shuffle(facts)
        q, ans = f"Who has a kind of {yb[0]}?", b
    elif fam == 3:
        # "Who does not have a kind of C? [A]": the other two own (different) things of C
        a, b, c = rng.sample(NAMES, 3)
        xa = s.obj(a, CATS, key)
        if xa is None:
            return None
        cat = rng.choice([x for x in CATS if x != xa[0]])
        yb = s.obj(b, [cat], False)
        if yb is None:
            return None
        zc = s.obj(c, [cat], False, exclude=(yb[2],))
        if zc is None:
            return None
        facts = [(a, xa), (b, yb), (c, zc)]
        rng.shuffle(facts)
        q, ans = f"Who does not have a kind of {cat}?", a
    else:
        raise ValueError(f"unknown family {fam}")
    ctx = "< " + " ".join(fact(style, n, o) for n, o in facts) + " >."
    return ctx, q, ans


FAMILIES = 6
STYLES = ("has", "is")
TASKS = [(f, st) for f in range(FAMILIES) for st in STYLES]  # task id = 2*family + style


def knowledge_sample(rng):
    """Eight lines each stating one object's category: the single-hop fact the questions compose."""
    lines = []
    for _ in range(8):
        cat, _, noun, pl = rng.choice(OBJECTS)
        lines.append(f"The {noun} {'are' if pl else 'is'} a kind of [ {cat} ].")
    return {"task_id": "knowledge", "texts": "\n" + "\n".join(lines) + "\n"}


def make_sample(rng, split, task):
    fam, style = TASKS[task]
    demo_sampler = Sampler(rng, "train" if split != "heldout" else "heldout")
    lines = []
    for i in range(8):
        demo = i < 2
        while True:
            out = family_line(fam, style, demo_sampler, demo)
            if out is not None:
                break
        ctx, q, ans = out
        lines.append(f"{ctx} {q} {ans}" if demo else f"{ctx} {q} [ {ans} ]")
    return {"task_id": f"task{task}", "texts": "\n" + "\n".join(lines) + "\n"}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--train", type=int, default=24000, help="training samples (8 lines each)")
    ap.add_argument("--per-task", type=int, default=25, help="held-out / test samples per task")
    ap.add_argument("--seed", type=int, default=20240601)
    ap.add_argument("--knowledge", type=float, default=0.1,
                    help="fraction of training samples that are knowledge samples (train split only)")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    for split, n, seed in (("train", args.train, args.seed),
                           ("test-seen", args.per_task * len(TASKS), args.seed + 1),
                           ("heldout", args.per_task * len(TASKS), args.seed + 2)):
        rng = random.Random(seed)
        path = os.path.join(args.out, f"{split}.jsonl")
        with open(path, "w") as f:
            for i in range(n):
                if split == "train" and rng.random() < args.knowledge:
                    f.write(json.dumps(knowledge_sample(rng)) + "\n")
                    continue
                task = i % len(TASKS) if split != "train" else rng.randrange(len(TASKS))
                f.write(json.dumps(make_sample(rng, split, task)) + "\n")
        print(f"wrote {n} samples to {path}")
    print(f"held-out (name, category) pairs: {len(HELD)} of {len(NAMES) * len(CATS)}")


if __name__ == "__main__":
    main()

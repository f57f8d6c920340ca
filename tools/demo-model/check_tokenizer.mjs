// Cross-checks the demo tokenizer against an independent byte-level BPE (Hugging Face tokenizers.js).
// Reads token ids produced by bpe_tokenizer.py (expected.json: [{text, ids}]) and encodes the same texts
// with tokenizers.js from ../tokenizer-check/node_modules (run `npm ci` there first).
// Usage: node check_tokenizer.mjs TOKENIZER_JSON EXPECTED_JSON
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const lib = path.join(here, "../tokenizer-check/node_modules/@huggingface/tokenizers/dist/tokenizers.mjs");
const { Tokenizer } = await import(pathToFileURL(lib).href);

const [tokPath, expPath] = process.argv.slice(2);
const tok = new Tokenizer(JSON.parse(fs.readFileSync(tokPath, "utf8")), {});
const cases = JSON.parse(fs.readFileSync(expPath, "utf8"));
let same = 0;
let tokens = 0;
for (const c of cases) {
  const ids = tok.encode(c.text, { add_special_tokens: false }).ids;
  tokens += ids.length;
  if (JSON.stringify(ids) === JSON.stringify(c.ids)) {
    same++;
  } else {
    console.log(`MISMATCH ${JSON.stringify(c.text.slice(0, 60))}\n  python ${c.ids.slice(0, 20)}\n  js     ${ids.slice(0, 20)}`);
  }
}
console.log(`${same}/${cases.length} texts identical (${tokens} tokens)`);
process.exit(same === cases.length ? 0 : 1);

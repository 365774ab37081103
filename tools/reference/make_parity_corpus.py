#!/usr/bin/env python3
"""Writes tests/data/text/parity_corpus.jsonl: the mixed text the tokenizer
parity tests run on. Hand-picked hard cases plus seeded random mixtures of
them. A line is {"text": ...} or, for bytes that are not UTF-8, {"hex": ...}.

    python3 tools/reference/make_parity_corpus.py tests/data/text/parity_corpus.jsonl
"""
import json
import random
import sys

CASES = [
    "Hello world",
    "The quick brown fox jumps over the lazy dog.",
    "I'm sure you'll see they've gone, and we'd said it's 'quoted'.",
    "I'M SURE YOU'LL SEE THEY'VE GONE. DON'T. Ain'T iT'S",
    "  leading spaces and trailing spaces   ",
    "tabs\tin\t\tthe\t\t\tmiddle",
    "line one\nline two\n\nline four\n\n\n",
    "windows\r\nline\r\nendings\r\n\r\n",
    "mixed \r\n \n\r whitespace\t \n",
    " " * 40 + "forty spaces before",
    "trailing run" + " " * 33,
    "\n" * 12 + "after newlines",
    "\t \t \t  \n   \n\t\t",
    "你好，世界！我们今天去公园散步吧。",
    "中文和English混合 text 里面有数字123和标点。",
    "日本語のテキスト：ひらがな、カタカナ、漢字。",
    "한국어 텍스트입니다. 안녕하세요!",
    "Привет, как дела? Всё хорошо.",
    "Γειά σου Κόσμε, αβγδε ΑΒΓΔΕ",
    "مرحبا بالعالم، هذا نص عربي.",
    "नमस्ते दुनिया, यह हिंदी पाठ है।",
    "สวัสดีชาวโลก ภาษาไทย",
    "def tokenize(text: str) -> list[int]:\n    return [ord(c) for c in text if c != ' ']\n",
    "for (int i = 0; i < n; ++i) { sum += a[i] * b[i]; }  // dot product",
    '{"user_id": "u17", "events": [{"id": "e1", "value": 5, "scale": [1, 5]}]}',
    "if x!=y&&z>=0||w<=-1: print(f\"{x:>10.3f}\")",
    "#include <vector>\n#define MAX(a,b) ((a)>(b)?(a):(b))\n",
    "    indented code\n        more indent\n\ttab indent",
    "SELECT name, COUNT(*) FROM users WHERE age > 30 GROUP BY name;",
    "1234567890 12 345 6789 3.14159 2,718 1e-10 0x1F -42 +7 1/2 50%",
    "Phone: +1 (555) 123-4567, year 2024, version v1.2.3-rc4",
    "١٢٣٤٥ ０１２３４５ ⅓ ½ ² ³ ⅷ",
    "emoji 😀😃😄 👍🏽 👨‍👩‍👧‍👦 🏳️‍🌈 🇫🇷🇯🇵 ❤️ ✨",
    "😀",
    "🤖 robots 🦀 crabs 🐍 snakes",
    "<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n4<|im_end|>",
    "text with <|endoftext|> in the middle",
    "<|im_start|><|im_end|><|im_start|>",
    "partial <|im_start and <|im_end| and im_start|> are plain text",
    "<think>\nreasoning here\n</think>\n\nanswer",
    "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n",
    "  <|im_end|>  spaces around special  <|endoftext|>",
    "cafe\u0301 (decomposed) vs caf\u00e9 (composed)",
    "A\u030a ring, n\u0303 tilde, e\u0308 diaeresis, \u212b angstrom sign",
    "\u1100\u1161\u11a8 hangul jamo to compose",
    "ｆｕｌｌｗｉｄｔｈ ＡＢＣ and ﬁ ligature",
    "ſ long s and K kelvin: 'ſ 'K it'ſ",
    "non\u00a0breaking\u00a0space and ideographic\u3000space",
    "next\u0085line and line\u2028separator and para\u2029graph",
    "zero\u200bwidth\u200cnon\u200djoiner\ufeffbom",
    "control\u0001chars\u0007bell\u001bescape\u007fdel",
    "nul\u0000byte inside",
    "∑∫∂√∞≈≠≤≥ ← → ↔ ⇒ ∀x∃y",
    "price: $100, €85, £70, ¥1000, ₹500",
    "quotes “smart” ‘single’ «guillemets» „low“",
    "dashes – — ‒ ― and ellipsis…",
    "https://example.com/path?query=1&b=2#frag user@example.org",
    "word-with-hyphens and_underscores and.dots",
    "ALLCAPS MiXeD CaSe lowercase",
    "a",
    " ",
    "\n",
    "",
    "!!!???...,,,;;;:::",
    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    "Pneumonoultramicroscopicsilicovolcanoconiosis antidisestablishmentarianism",
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𝕞𝕒𝕥𝕙 𝒮𝒸𝓇𝒾𝓅𝓉",
    "🀄🃏 ancient 𓀀𓁐 hieroglyphs 𐍈 gothic",
]

# Not UTF-8: stray continuation, truncated sequence, overlong, surrogate, > U+10FFFF.
HEX_CASES = [
    "68656c6c6f80776f726c64",
    "e4bda0e5a5bde4",
    "c0af20c1bf",
    "eda080206c6f6e6520737572726f67617465",
    "f4908080206265796f6e64",
    "ff fe 41 42".replace(" ", ""),
    "e282 2061 e2 82 ac".replace(" ", ""),
    "f09f982071756172746572",
]


def random_mixture(rng):
    pieces = [rng.choice(CASES) for _ in range(rng.randint(2, 5))]
    joiners = ["", " ", "\n", "  ", "\t", "\r\n", "<|im_end|>", "ä"]
    out = pieces[0]
    for piece in pieces[1:]:
        out += rng.choice(joiners) + piece
    return out


def main():
    rng = random.Random(20261122)
    lines = [{"text": text} for text in CASES]
    lines += [{"hex": h} for h in HEX_CASES]
    lines += [{"text": random_mixture(rng)} for _ in range(60)]
    with open(sys.argv[1], "w", encoding="utf-8") as out:
        for line in lines:
            out.write(json.dumps(line, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()

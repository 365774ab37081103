#!/usr/bin/env python3
"""Does a writer's choice of tone word depend on the history it reads?

usage: tone_logit.py ROWS.jsonl TRUTH.jsonl HISTORIES.jsonl MODEL_DIR [MODEL_DIR ...]

ROWS: {"user_id", "prompt"} rows holding each user's profile prompt exactly as
the writer sees it (upm-data profile-rows output, e.g. the demo's
teacher_rows.jsonl). For every user the prompt is followed by the writer's
fixed think note and "Prefers a casual tone." / "Prefers a formal tone.";
`upm-infer score` gives the log-probability of the tone token in each, and the
script prints the mean log P(casual) - log P(formal) by the user's true tone
and the tone evidence in the history (style_evidence.py's groups). A writer
that reads tone has a positive gap for casual users with evidence and a
negative one for formal users; equal means in every group mean the tone word
is a constant of the writer, not a reading.
"""
import collections
import json
import os
import subprocess
import sys
import tempfile

from style_evidence import evidence
from writer_reading import load

# The writer's fixed think note, as build-sft writes it into the SFT targets.
DEMO_BUILD_SFT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../configs/demo/build_sft.json")
NOTE = "<think>" + json.load(open(DEMO_BUILD_SFT))["output"]["reasoning_note"] + "</think>"
BIN = os.environ.get("BIN", "build/bin")


def tone_gaps(model, prompts):
    """log P(casual) - log P(formal) at the tone token, per prompt."""
    with tempfile.TemporaryDirectory() as tmp:
        src, out = os.path.join(tmp, "in.jsonl"), os.path.join(tmp, "out.jsonl")
        with open(src, "w") as f:
            for prompt in prompts:
                for word in ("casual", "formal"):
                    f.write(json.dumps({"text": prompt + NOTE + "Prefers a %s tone." % word}) + "\n")
        subprocess.run([BIN + "/upm-infer", "score", "--model", model, "--input", src, "--output", out],
                       check=True, capture_output=True)
        rows = [json.loads(line) for line in open(out)]
    gaps = []
    for casual, formal in zip(rows[0::2], rows[1::2]):
        at = next(i for i, (a, b) in enumerate(zip(casual["ids"], formal["ids"])) if a != b)
        gaps.append(casual["logprobs"][at - 1] - formal["logprobs"][at - 1])  # logprobs[i] scores ids[i + 1]
    return gaps


def main():
    rows = [json.loads(line) for line in open(sys.argv[1])]
    truth, histories = load(sys.argv[2]), load(sys.argv[3])
    rows = [r for r in rows if r["user_id"] in truth and r["user_id"] in histories]
    out = {}
    for model in sys.argv[4:]:
        groups = collections.defaultdict(list)
        for row, gap in zip(rows, tone_gaps(model, [r["prompt"] for r in rows])):
            uid = row["user_id"]
            groups[evidence(histories[uid]["events"]) + ", truly " + truth[uid]["style"]["tone"]].append(gap)
        out[model] = {k: {"users": len(v), "mean log P(casual) - log P(formal)": round(sum(v) / len(v), 3)}
                      for k, v in sorted(groups.items())}
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()

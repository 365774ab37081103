#!/usr/bin/env python3
"""Accuracy by kind of task in an upm-eval run of the demo's world.

usage: task_kinds.py EVAL_RUN_DIR BENCHMARK.jsonl

The synthetic world's tasks test three things: topics (store clicks, review
ratings, survey pairs), and for answer-style pairs (source "assistant")
either verbosity (the two answers share their opening and closing words and
differ in length) or tone (a formal and a casual wrapping of one answer).
upm-eval's `group_by` sees only the source; this splits the assistant tasks
and prints each condition's accuracy (percent) per kind, from
predictions.jsonl.
"""
import collections
import json
import sys


def kind_of(task):
    if task["source"] != "assistant":
        return "topic"
    a, b = (option.split() for option in task["options"])
    return "verbosity" if a[0] == b[0] and a[-1] == b[-1] else "tone"


def main(run_dir, benchmark):
    kinds = {}
    with open(benchmark) as f:
        for line in f:
            task = json.loads(line)
            kinds[task["task_id"]] = kind_of(task)
    correct = collections.defaultdict(list)
    conditions = []
    with open(run_dir + "/predictions.jsonl") as f:
        for line in f:
            p = json.loads(line)
            if p["condition"] not in conditions:
                conditions.append(p["condition"])
            correct[(p["condition"], kinds[p["task_id"]])].append(1.0 if p["correct"] else 0.0)
    counts = collections.Counter(kinds.values())
    order = ("topic", "verbosity", "tone")
    print("tasks: " + ", ".join(f"{k} {counts[k]}" for k in order))
    for condition in conditions:
        cells = []
        for k in order:
            values = correct[(condition, k)]
            cells.append(f"{k} {100 * sum(values) / len(values):.1f}" if values else f"{k} -")
        print(f"{condition:40s} " + "  ".join(cells))


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])

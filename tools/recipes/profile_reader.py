#!/usr/bin/env python3
"""Where a judge's accuracy could come from, measured two ways.

1. A rule reader (--profiles, --tasks): each profile's liked and disliked
   genres are read as profile_truth.py reads them; a task's option scores
   +1 for each liked genre it carries and -1 for each disliked one, and the
   higher-scoring option is the answer (a tie counts half). This is what a
   reader that understands genre lists, and nothing else, gets from the
   profiles: an upper reference for what a judge could read from them.
2. A calibrated judge (--predictions, an upm-eval predictions.jsonl): each
   condition's option scores minus the same task's scores with no profile
   (the option's own prior likelihood, e.g. of its title, cancels), the
   higher difference being the answer. It shows what the judge's scores carry
   about the input once the option prior is removed.

Prints one JSON object: per task kind and overall, accuracy and n.
Standard library only.

  python3 tools/recipes/profile_reader.py --profiles runs/movielens/teacher_train.jsonl \\
      --tasks runs/movielens/train_test_tasks.jsonl
  python3 tools/recipes/profile_reader.py --predictions runs/movielens/judge_check/predictions.jsonl
"""
import argparse
import json
import os
import sys
from collections import defaultdict

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from profile_truth import claims, genre_key, read_jsonl  # noqa: E402


def option_genres(option):
    """'Title (Year) | Genre, Genre' -> {genre keys}."""
    if "|" not in option:
        return set()
    return {genre_key(g) for g in option.split("|", 1)[1].split(",") if g.strip()}


def tally(results):
    out = {}
    for key, values in sorted(results.items()):
        out[key] = {"accuracy": round(100 * sum(values) / len(values), 1), "n": len(values)}
    return out


def rule_reader(profiles_path, tasks_path):
    profiles = {r["user_id"]: r["profile"] for r in read_jsonl(profiles_path)}
    results = defaultdict(list)
    for task in read_jsonl(tasks_path):
        if task["user_id"] not in profiles:
            continue
        liked, disliked = claims(profiles[task["user_id"]])
        scores = [len(option_genres(o) & liked) - len(option_genres(o) & disliked) for o in task["options"]]
        best = max(scores)
        winners = [i for i, s in enumerate(scores) if s == best]
        credit = 1.0 / len(winners) if task["label"] in winners else 0.0
        for key in ("all", task.get("kind", "")):
            results[key].append(credit)
        results["ties"].append(1.0 if len(winners) > 1 else 0.0)
    return tally(results)


def calibrated(predictions_path, baseline):
    by_task = defaultdict(dict)
    for row in read_jsonl(predictions_path):
        by_task[row["task_id"]][row["condition"]] = row
    results = defaultdict(list)
    for conditions in by_task.values():
        if baseline not in conditions:
            continue
        base = conditions[baseline]["scores"]
        for name, row in conditions.items():
            if name == baseline:
                continue
            diff = [s - b for s, b in zip(row["scores"], base)]
            best = max(diff)
            winners = [i for i, d in enumerate(diff) if d == best]
            credit = 1.0 / len(winners) if row["label"] in winners else 0.0
            results[name].append(credit)
    return tally(results)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--profiles", help="profiles JSONL {user_id, profile}")
    parser.add_argument("--tasks", help="benchmark tasks JSONL")
    parser.add_argument("--predictions", help="upm-eval predictions.jsonl")
    parser.add_argument("--baseline", default="no profile", help="the condition whose scores are subtracted")
    args = parser.parse_args()
    out = {}
    if args.profiles and args.tasks:
        out["rule_reader"] = rule_reader(args.profiles, args.tasks)
    if args.predictions:
        out["calibrated_judge"] = calibrated(args.predictions, args.baseline)
    if not out:
        parser.error("give --profiles and --tasks, or --predictions")
    json.dump(out, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()

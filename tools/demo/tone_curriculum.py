#!/usr/bin/env python3
"""Short histories that make a history's answer tone easy to see, for the
writer's curriculum (tools/demo/make_writer.sh, phase 2).

usage: tone_curriculum.py HISTORY.jsonl OUT_DIR

HISTORY: the writer recipe's user logs (upm-data split's history.jsonl of its
own synthetic world). Writes three user-log files to OUT_DIR, each a
deterministic function of the input:
  posts.jsonl    4000 users with two events: a tone post and a liked-topic post
                 (the two tones alternate at random, the order too)
  choices.jsonl  users of the second half of the input that hold a choice
                 between the same answer in both tones: those choices (at most
                 two) and up to two other events of theirs, in time order
  cut.jsonl      the first 12000 users, each cut to their tone evidence and a
                 quarter of their other events (at most 8 events)
The rule teacher then writes the targets (upm-data profile-rows), so the rows
say exactly what these short histories show.

Why: the writer trained on full histories alone never ties its tone word to
the history (tone_logit.py: the same log-odds for every user); on two-event
histories it learns the tie in ~150 steps, and from there longer histories.
"""
import json
import os
import random
import sys

from style_evidence import is_tone_choice, is_tone_post

TOPICS = ["science fiction", "horror", "romance", "comedy", "documentary",
          "fantasy", "thriller", "history", "cooking", "sports"]


def write(path, users):
    with open(path + ".tmp", "w") as out:
        for user in users:
            out.write(json.dumps(user) + "\n")
    os.replace(path + ".tmp", path)


def posts(rng):
    users = []
    for i in range(4000):
        casual = rng.random() < 0.5
        texts = ["Keep it casual, no need to be formal." if casual else "I appreciate polite, formal replies.",
                 "I really enjoy %s." % rng.choice(TOPICS)]
        if rng.random() < 0.5:
            texts.reverse()
        events = [{"id": "e%d" % (k + 1), "kind": "text", "source": "forum", "text": t,
                   "ts": "2024-01-0%dT13:10:22Z" % (7 + k)} for k, t in enumerate(texts)]
        users.append({"user_id": "tone-post-%d" % i, "events": events})
    return users


def choices(logs, rng):
    users = []
    for user in logs[len(logs) // 2:]:
        tone = [e for e in user["events"] if is_tone_choice(e)]
        if not tone:
            continue
        other = [e for e in user["events"] if not is_tone_choice(e)]
        keep = tone[:2] + rng.sample(other, min(len(other), rng.randint(0, 2)))
        users.append(dict(user, events=sorted(keep, key=lambda e: e["ts"])))
    return users


def cut(logs, rng):
    users = []
    for user in logs[:12000]:
        keep = [e for e in user["events"] if is_tone_choice(e) or is_tone_post(e) or rng.random() < 0.25][:8]
        if keep:
            users.append(dict(user, events=keep))
    return users


def main():
    logs = [json.loads(line) for line in open(sys.argv[1])]
    out = sys.argv[2]
    os.makedirs(out, exist_ok=True)
    write(os.path.join(out, "posts.jsonl"), posts(random.Random(2)))
    write(os.path.join(out, "choices.jsonl"), choices(logs, random.Random(3)))
    write(os.path.join(out, "cut.jsonl"), cut(logs, random.Random(1)))


if __name__ == "__main__":
    main()

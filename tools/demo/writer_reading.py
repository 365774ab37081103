#!/usr/bin/env python3
"""How well a writer's profiles say what each user's history says.

usage: writer_reading.py PROFILES.jsonl TRUTH.jsonl [RULE_ROWS.jsonl]

PROFILES: upm-profile output ({"user_id", "profile"}). TRUTH: upm-data synth's
truth.jsonl (latent likes / dislikes / style). RULE_ROWS: optional
`upm-data profile-rows` output with targets "rule" on the same histories
(the rule teacher's reading, the writer's SFT target).

Prints JSON: for liked / disliked topics, the share of named topics that are
in the user's true set (precision; chance = set size / number of topics) and
the agreement with the rule teacher; for answer style, the share of named
style words that are true, pooled and for tone and verbosity apart. A writer
that does not read histories sits at chance however fluent its profiles are.
"""
import json
import re
import sys

TOPIC_SENTENCE = re.compile(r"\b(Likes|Dislikes) ([^.]*)\.")
STYLE_WORDS = {"concise": ("verbosity", "concise"), "detailed": ("verbosity", "detailed"),
               "formal": ("tone", "formal"), "casual": ("tone", "casual")}


def topics(profile, which):
    named = set()
    for verb, rest in TOPIC_SENTENCE.findall(profile):
        if verb == which:
            named.update(t.strip() for t in re.split(r",| and ", rest) if t.strip())
    return named


def styles(profile):
    m = re.search(r"Prefers ([^.]*)\.", profile)
    return {w for w in STYLE_WORDS if m and re.search(r"\b%s\b" % w, m.group(1))}


def load(path, key="user_id"):
    return {row[key]: row for row in map(json.loads, open(path))}


def share(hits, total):
    return None if total == 0 else round(hits / total, 3)


def main():
    profiles = load(sys.argv[1])
    truth = load(sys.argv[2])
    rule = {}
    if len(sys.argv) > 3:
        for uid, row in load(sys.argv[3]).items():
            rule[uid] = row["completion"].split("</think>")[-1]
    all_topics = sorted({t for row in truth.values() for t in row["likes"] + row["dislikes"]})
    out = {"users": 0, "topics": len(all_topics)}
    counts = {}
    def add(key, hits, total):
        h, t = counts.get(key, (0, 0))
        counts[key] = (h + hits, t + total)
    for uid, row in profiles.items():
        if uid not in truth:
            continue
        out["users"] += 1
        text, t = row["profile"], truth[uid]
        for which, true_set in (("Likes", set(t["likes"])), ("Dislikes", set(t["dislikes"]))):
            named = topics(text, which)
            add(which + " in truth", len(named & true_set), len(named))
            if uid in rule:
                add(which + " as the rule teacher", len(named & topics(rule[uid], which)), len(named))
        named = styles(text)
        add("style words in truth", sum(1 for w in named if t["style"][STYLE_WORDS[w][0]] == w), len(named))
        # Tone and verbosity apart: a writer can read one and guess the other,
        # which the pooled share hides.
        for attribute in ("tone", "verbosity"):
            said = [w for w in named if STYLE_WORDS[w][0] == attribute]
            add(attribute + " words in truth", sum(1 for w in said if t["style"][attribute] == w), len(said))
        if uid in rule:
            add("style words as the rule teacher", len(named & styles(rule[uid])), len(named))
    for key, (h, total) in sorted(counts.items()):
        out[key] = {"share": share(h, total), "named": total}
    sizes = [len(r["likes"]) for r in truth.values()]
    out["chance: a random topic in the true likes"] = round(sum(sizes) / len(sizes) / max(1, len(all_topics)), 3)
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()

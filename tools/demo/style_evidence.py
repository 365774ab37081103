#!/usr/bin/env python3
"""Which way a writer's tone words go, by the tone evidence each history holds.

usage: style_evidence.py PROFILES.jsonl TRUTH.jsonl HISTORIES.jsonl [REFERENCE.jsonl]

PROFILES / REFERENCE: {"user_id", "profile"} rows (upm-profile output, or the
rule teacher's profiles as the demo writes them). TRUTH: upm-data synth's
truth.jsonl. HISTORIES: the user logs the profiles were written from.

The synthetic world shows a user's tone in two ways: a post saying it
("I appreciate polite, formal replies." / "Keep it casual, ...") and a choice
between the same answer in both tones ("Sure thing! ... :)" against
"Certainly. ... I hope this is helpful."). Prints JSON counts of the
profile's tone word (true / false / none) for users with a post, a tone
choice, both or neither, and, with REFERENCE, for the users whose reference
profile names a tone or not. A writer that reads tone is mostly true where
there is evidence and silent where there is none; one that only notices that
tone is mentioned is silent in the right places and at chance elsewhere.
"""
import collections
import json
import sys

from writer_reading import STYLE_WORDS, load, styles

CASUAL, FORMAL = "Sure thing!", "Certainly."


def tone_word(profile):
    """The profile's tone word, or None when it names none or both."""
    words = [w for w in styles(profile) if STYLE_WORDS[w][0] == "tone"]
    return words[0] if len(words) == 1 else None


def is_tone_post(event):
    """A post stating the user's tone."""
    text = event.get("text", "")
    return event.get("kind") == "text" and ("formal replies" in text or "Keep it casual" in text)


def is_tone_choice(event):
    """A choice between the same answer in both tones."""
    text = json.dumps(event)
    return CASUAL in text and FORMAL in text


def evidence(events):
    post = any(map(is_tone_post, events))
    choice = any(map(is_tone_choice, events))
    return {(True, True): "post and choice", (True, False): "post only",
            (False, True): "choice only", (False, False): "none"}[(post, choice)]


def outcome(word, truth):
    return "none" if word is None else ("true" if word == truth else "false")


def main():
    profiles, truth, histories = load(sys.argv[1]), load(sys.argv[2]), load(sys.argv[3])
    reference = load(sys.argv[4]) if len(sys.argv) > 4 else {}
    by_evidence = collections.defaultdict(collections.Counter)
    by_reference = collections.defaultdict(collections.Counter)
    for uid, row in profiles.items():
        if uid not in truth or uid not in histories:
            continue
        result = outcome(tone_word(row["profile"]), truth[uid]["style"]["tone"])
        by_evidence[evidence(histories[uid]["events"])][result] += 1
        if uid in reference:
            named = "reference names a tone" if tone_word(reference[uid]["profile"]) else "reference names none"
            by_reference[named][result] += 1
    out = {"by evidence in the history": {k: dict(v) for k, v in sorted(by_evidence.items())}}
    if reference:
        out["by the reference profile"] = {k: dict(v) for k, v in sorted(by_reference.items())}
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()

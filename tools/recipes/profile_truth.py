#!/usr/bin/env python3
"""Truthfulness of written profiles against the users' own ratings.

For every profile, each sentence is read as liked or disliked (a sentence
with a negation or a word such as "dislikes", "avoids", "not a fan" is
disliked; one with "likes", "enjoys", "loves", "prefers", "fan of" ... is
liked; others claim nothing) and the genres it names are collected (MovieLens
genre names and their common spellings: "sci-fi" / "science fiction",
"comedies", "animated", "kids" ...). A liked genre is TRUE when the user's mean
rating of that genre's movies in the history the profile was written from is
above the user's own mean rating; a disliked genre when it is below. A genre
the user never rated counts as unsupported (not true). Chance: the share of
a user's rated genres that are above (below) their mean, i.e. what naming
rated genres at random would score.

Writes --output (JSON: per writer, claims, true shares, chance) and --samples
(Markdown: ten held-out users' profiles verbatim beside their real top and
bottom genres). Standard library only.
"""
import argparse
import json
import re
import sys
from collections import defaultdict

# Genre -> spellings a profile may use (lower case, matched as whole words).
SPELLINGS = {
    "action": ["action"],
    "adventure": ["adventure", "adventures"],
    "animation": ["animation", "animated", "cartoons?"],
    "children": ["children", "children's", "kids", "family"],
    "comedy": ["comedy", "comedies", "funny"],
    "crime": ["crime"],
    "documentary": ["documentary", "documentaries"],
    "drama": ["drama", "dramas"],
    "fantasy": ["fantasy"],
    "film-noir": ["film-noir", "film noir", "noir"],
    "horror": ["horror"],
    "imax": ["imax"],
    "musical": ["musical", "musicals"],
    "mystery": ["mystery", "mysteries"],
    "romance": ["romance", "romances", "romantic"],
    "sci-fi": ["sci-fi", "science fiction", "scifi", "sci fi"],
    "thriller": ["thriller", "thrillers"],
    "war": ["war"],
    "western": ["western", "westerns"],
}
PATTERNS = {g: re.compile(r"(?<![\w-])(" + "|".join(s) + r")(?![\w-])") for g, s in SPELLINGS.items()}
NEGATIVE = re.compile(r"(\w+n't\b)|\b(dislike[sd]?|not|never|avoid[s]?|hate[sd]?|less|low(er|est)?|poor(ly)?|"
                      r"rarely|unfavou?rable|negative|bad|worst|least)\b")
POSITIVE = re.compile(r"\b(like[sd]?|enjoy[s]?|love[sd]?|prefer[s]?|fan|favou?rite[s]?|high(er|est)?|"
                      r"appreciate[s]?|positive|good|great|best|interest(ed)?)\b")


def genre_key(name):
    return name.strip().lower()


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def user_genre_means(log):
    """(user mean, {genre: (mean, count)}) over the log's ratings."""
    values, per_genre = [], defaultdict(list)
    for e in log["events"]:
        if e.get("kind") != "rating":
            continue
        v = float(e["value"])
        values.append(v)
        item = e.get("item", "")
        genres = item.rsplit(" | ", 1)[1] if " | " in item else e.get("category", "")
        for g in genres.split(","):
            if g.strip() and genre_key(g) in SPELLINGS:
                per_genre[genre_key(g)].append(v)
    mean = sum(values) / len(values) if values else 0.0
    return mean, {g: (sum(v) / len(v), len(v)) for g, v in per_genre.items()}


def claims(profile):
    """(liked genres, disliked genres) a profile names."""
    liked, disliked = set(), set()
    for sentence in re.split(r"(?<=[.!?;])\s+|\n+", profile.lower()):
        # "likes comedy but not horror": the clause after but / except / while
        # is read on its own.
        for clause in re.split(r"\b(?:but|except|while|whereas|however)\b", sentence):
            named = {g for g, p in PATTERNS.items() if p.search(clause)}
            if not named:
                continue
            if NEGATIVE.search(clause):
                disliked |= named
            elif POSITIVE.search(clause):
                liked |= named
    return liked, disliked - liked


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--history", required=True, help="user logs the profiles were written from")
    ap.add_argument("--profiles", nargs="+", required=True, help="NAME=profiles.jsonl (latest version per user)")
    ap.add_argument("--run", default="", help="shown in the samples' heading")
    ap.add_argument("--output", required=True)
    ap.add_argument("--samples", required=True)
    ap.add_argument("--sample-users", type=int, default=10)
    args = ap.parse_args()

    stats = {}
    for log in read_jsonl(args.history):
        stats[log["user_id"]] = user_genre_means(log)

    chance_liked, chance_disliked = [], []
    for mean, genres in stats.values():
        if genres:
            chance_liked.append(sum(m > mean for m, _ in genres.values()) / len(genres))
            chance_disliked.append(sum(m < mean for m, _ in genres.values()) / len(genres))

    writers, profiles_of = {}, {}
    for spec in args.profiles:
        name, _, path = spec.partition("=")
        if not path:
            sys.exit(f"profile_truth: --profiles wants NAME=FILE, got {spec!r}")
        latest = {}
        for row in read_jsonl(path):
            if row["user_id"] not in latest or row.get("version", 0) >= latest[row["user_id"]].get("version", 0):
                latest[row["user_id"]] = row
        profiles_of[name] = {u: r["profile"] for u, r in latest.items()}
        counts = defaultdict(int)
        for user, profile in profiles_of[name].items():
            if user not in stats:
                continue
            mean, genres = stats[user]
            liked, disliked = claims(profile)
            counts["profiles"] += 1
            counts["profiles_with_a_genre"] += bool(liked or disliked)
            for g in liked:
                counts["liked"] += 1
                if g not in genres:
                    counts["liked_unsupported"] += 1
                elif genres[g][0] > mean:
                    counts["liked_true"] += 1
            for g in disliked:
                counts["disliked"] += 1
                if g not in genres:
                    counts["disliked_unsupported"] += 1
                elif genres[g][0] < mean:
                    counts["disliked_true"] += 1
        share = lambda a, b: counts[a] / counts[b] if counts[b] else None
        writers[name] = dict(counts, liked_true_share=share("liked_true", "liked"),
                             disliked_true_share=share("disliked_true", "disliked"))

    out = {
        "history": args.history,
        "users": len(stats),
        "chance": {"liked": sum(chance_liked) / len(chance_liked) if chance_liked else None,
                   "disliked": sum(chance_disliked) / len(chance_disliked) if chance_disliked else None},
        "writers": writers,
    }
    with open(args.output, "w", encoding="utf-8") as f:
        json.dump(out, f, indent=2)
        f.write("\n")

    def top_bottom(user):
        mean, genres = stats[user]
        rated = sorted(((m - mean, g, n) for g, (m, n) in genres.items() if n >= 3), reverse=True)
        fmt = lambda xs: ", ".join(f"{g} {d:+.2f} ({n})" for d, g, n in xs) or "-"
        top = [x for x in rated[:2] if x[0] > 0]
        bottom = [x for x in reversed(rated[-2:]) if x[0] < 0]
        return mean, fmt(top), fmt(bottom)

    lines = [f"Ten held-out users of `{args.run}`: each user's real top and bottom genres (mean rating of the genre "
             "minus the user's own mean, over the history the profiles were written from; genres with >= 3 "
             "ratings; count in brackets) beside the profiles, verbatim.", ""]
    names = list(profiles_of)
    lines.append("| user | mean | top genres | bottom genres | " + " | ".join(names) + " |")
    lines.append("|---|---:|---|---|" + "---|" * len(names))
    cell = lambda t: t.replace("|", "\\|").replace("\n", " ").strip()
    for user in sorted(stats)[: args.sample_users]:
        mean, top, bottom = top_bottom(user)
        row = [user, f"{mean:.2f}", top, bottom] + [cell(profiles_of[n].get(user, "(none)")) for n in names]
        lines.append("| " + " | ".join(row) + " |")
    lines.append("")
    lines.append("| writer | profiles | naming a genre | liked claims | true | unsupported | disliked claims | true | unsupported |")
    lines.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    pct = lambda v: "n/a" if v is None else f"{100 * v:.1f}%"
    for n, w in writers.items():
        lines.append(f"| {n} | {w.get('profiles', 0)} | {w.get('profiles_with_a_genre', 0)} | {w.get('liked', 0)} | "
                     f"{pct(w['liked_true_share'])} | {w.get('liked_unsupported', 0)} | {w.get('disliked', 0)} | "
                     f"{pct(w['disliked_true_share'])} | {w.get('disliked_unsupported', 0)} |")
    lines.append(f"| chance (a rated genre at random) | | | | {pct(out['chance']['liked'])} | | | "
                 f"{pct(out['chance']['disliked'])} | |")
    with open(args.samples, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    print(json.dumps(out["writers"], indent=1))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Every relative link in README.md and docs/*.md resolves.

Checks Markdown links and images ([text](target), ![alt](target)) and HTML
href/src attributes whose target is not a URL: the file or folder must exist
relative to the page, and a #anchor must name a heading of the target page
(GitHub's slug rules: lower case, punctuation dropped, spaces to hyphens,
-1, -2 ... for repeats) or an explicit <a id/name>. Links inside code blocks
and code spans are ignored. Prints every broken link as FILE:LINE: message
and exits 1 if there is one, 0 otherwise.
Usage: tools/ci/check_links.py [ROOT] [FILE.md ...]  (default: ROOT's README.md, docs/*.md)
"""
import os
import re
import sys

LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
HTML = re.compile(r"""(?:href|src)\s*=\s*["']([^"']+)["']""")
REF_DEF = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s.*)?$")
HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
EXPLICIT_ANCHOR = re.compile(r"""<a\s+(?:id|name)\s*=\s*["']([^"']+)["']""")
FENCE = re.compile(r"^\s{0,3}(```+|~~~+)")


def slug(text):
    text = re.sub(r"<[^>]+>", "", text)                # inline HTML
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", text)  # links: their text
    text = text.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)              # keeps letters, digits, _, -, space
    return text.replace(" ", "-")


def prose_lines(path):
    """(line number, text) of lines outside fenced code blocks, code spans removed."""
    fence = None
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            m = FENCE.match(line)
            if m:
                mark = m.group(1)[0] * 3
                if fence is None:
                    fence = mark
                elif mark == fence:
                    fence = None
                continue
            if fence is None:
                yield number, re.sub(r"`[^`]*`", "", line.rstrip("\n"))


def check(page, root):
    errors = []
    for number, line in prose_lines(page):
        targets = LINK.findall(line) + HTML.findall(line)
        m = REF_DEF.match(line)
        if m:
            targets.append(m.group(1))
        for target in targets:
            if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I) or target.startswith("//"):
                continue  # a URL (http:, mailto:, ...): not checked offline
            path_part, _, anchor = target.partition("#")
            dest = page if not path_part else os.path.normpath(os.path.join(os.path.dirname(page), path_part))
            where = f"{os.path.relpath(page, root)}:{number}"
            if not os.path.exists(dest):
                errors.append(f"{where}: {target}: {os.path.relpath(dest, root)} does not exist")
                continue
            if anchor and dest.endswith(".md") and os.path.isfile(dest):
                if anchor not in anchors_with_code(dest):
                    errors.append(f"{where}: {target}: no heading #{anchor} in {os.path.relpath(dest, root)}")
    return errors


def anchors_with_code(path, cache={}):
    """Heading slugs, computed from the heading text with its code spans kept."""
    if path not in cache:
        found, seen, fence = set(), {}, None
        with open(path, encoding="utf-8") as f:
            for line in f:
                m = FENCE.match(line)
                if m:
                    mark = m.group(1)[0] * 3
                    fence = mark if fence is None else (None if mark == fence else fence)
                    continue
                if fence is not None:
                    continue
                found.update(EXPLICIT_ANCHOR.findall(line))
                h = HEADING.match(line.rstrip("\n"))
                if h:
                    base = slug(h.group(2))
                    n = seen.get(base, 0)
                    seen[base] = n + 1
                    found.add(base if n == 0 else f"{base}-{n}")
        cache[path] = found
    return cache[path]


def main(argv):
    root = os.path.abspath(argv[1]) if len(argv) > 1 else os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
    pages = [os.path.abspath(p) for p in argv[2:]]
    if not pages:
        pages = [os.path.join(root, "README.md")]
        docs = os.path.join(root, "docs")
        pages += sorted(os.path.join(docs, f) for f in os.listdir(docs) if f.endswith(".md"))
    errors = []
    for page in pages:
        errors += check(page, root)
    for e in errors:
        print(e)
    print(f"check_links: {len(pages)} pages, {len(errors)} broken links", file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

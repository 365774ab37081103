#!/usr/bin/env python3
"""The house's arrows point one way (docs/design.md, "Layers").

Every `#include "upm/LAYER/..."` in src/<layer>/ and include/upm/<layer>/ must
name the layer itself or one it may use; pipeline and train never include each
other; no public header includes <torch/torch.h>. Prints each offence as
file:line and exits 1 when there is one.
"""
import pathlib
import re
import sys

# Each layer and the layers below it that it may include.
MAY_USE = {
    "core": [],
    "text": ["core"],
    "data": ["core"],
    "model": ["core"],
    "dist": ["core"],
    "infer": ["core", "text", "data", "model", "dist", "openai"],
    "openai": ["core", "text"],
    "serve": ["core", "text", "data", "model", "dist", "infer", "openai"],
    "embed": ["core", "text", "data", "model", "dist", "infer"],
    "pipeline": ["core", "text", "data", "model", "dist", "infer", "openai", "embed"],
    "train": ["core", "text", "data", "model", "dist", "infer", "openai", "embed"],
}
INCLUDE = re.compile(r'^\s*#\s*include\s+"upm/([a-z_]+)/')
TORCH_ALL = re.compile(r'^\s*#\s*include\s+<torch/torch\.h>')


def main(root: pathlib.Path) -> int:
    problems = []
    for layer, allowed in MAY_USE.items():
        for base in (root / "src" / layer, root / "include" / "upm" / layer):
            for path in sorted(base.rglob("*")) if base.is_dir() else []:
                if path.suffix not in (".h", ".cpp"):
                    continue
                public = base.parts[-2] == "upm"
                for number, line in enumerate(path.read_text().splitlines(), 1):
                    where = f"{path.relative_to(root)}:{number}"
                    m = INCLUDE.match(line)
                    if m and m.group(1) != layer and m.group(1) not in allowed:
                        problems.append(f"{where}: {layer} includes upm/{m.group(1)}/ (may use: {', '.join(allowed) or 'nothing'})")
                    if public and TORCH_ALL.match(line):
                        problems.append(f"{where}: a public header includes <torch/torch.h>")
    for layer in MAY_USE:
        if not (root / "src" / layer).is_dir():
            problems.append(f"src/{layer}: listed in MAY_USE but missing")
    for folder in sorted((root / "src").iterdir()):
        if folder.is_dir() and folder.name not in MAY_USE:
            problems.append(f"src/{folder.name}: a layer that MAY_USE does not place")
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ".").resolve()))

#!/usr/bin/env python3
"""Renders what the guarantee tests measured (artifacts/test-results/figures/*.jsonl, one JSON line
per figure, written by tests/Dso.Testing/Figures.cs) as a markdown table, one row per guarantee,
measure and test.

  scripts/figures.py DIR                      print the table
  scripts/figures.py DIR --write FILE.md      also replace FILE.md's section between the
                                              <!-- figures:start --> and <!-- figures:end --> lines
"""
import glob
import json
import os
import subprocess
import sys
from datetime import date

START, END = "<!-- figures:start -->", "<!-- figures:end -->"


def table(directory):
    rows = {}
    for path in sorted(glob.glob(os.path.join(directory, "*.jsonl"))):
        with open(path, encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    r = json.loads(line)
                    rows.setdefault((r["guarantee"], r["measure"], r["test"]), []).append(r["value"])
    if not rows:
        return None

    def order(key):
        g = key[0]
        return (int(g[1:]) if g[1:].isdigit() else 99, key[1], key[2])

    out = ["| guarantee | what was measured | figure | test |", "|---|---|---|---|"]
    for key in sorted(rows, key=order):
        values = rows[key]
        if len(values) == 1:
            figure = values[0]
        else:
            counts = {}
            for v in values:
                counts[v] = counts.get(v, 0) + 1
            figure = f"{len(values)} cases: " + ", ".join(v if n == 1 else f"{v} ×{n}" for v, n in sorted(counts.items()))
        cell = lambda t: t.replace("|", "\\|")
        out.append(f"| {key[0]} | {cell(key[1])} | {cell(figure)} | `{key[2]}` |")
    return "\n".join(out) + "\n"


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    text = table(sys.argv[1])
    if text is None:
        sys.exit(f"no figures in {sys.argv[1]}: run the tests first (scripts/test.sh)")
    print(text, end="")
    if len(sys.argv) == 4 and sys.argv[2] == "--write":
        target = sys.argv[3]
        with open(target, encoding="utf-8") as f:
            doc = f.read()
        if START not in doc or END not in doc:
            sys.exit(f"{target} has no {START} … {END} section")
        try:
            commit = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            commit = "unknown"
        section = f"{START}\n_From a run of `scripts/test.sh` on {date.today().isoformat()}, commit `{commit}`; `DSO_WRITE_FIGURES=1 bash scripts/test.sh` rewrites this section._\n\n{text}{END}"
        head, rest = doc.split(START, 1)
        tail = rest.split(END, 1)[1]
        with open(target, "w", encoding="utf-8") as f:
            f.write(head + section + tail)


main()

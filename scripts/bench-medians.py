#!/usr/bin/env python3
"""Medians over several runs of scripts/bench.sh: reads the summary.md of each --out-dir given
and prints the same table with every number replaced by its median over the runs (cells such as
"p50 / p99 / p99.9" are taken number by number; the accord/baseline ratio is recomputed from
the medians where both sides have one number to compare).

    scripts/bench.sh --out-dir /tmp/run1; scripts/bench.sh --out-dir /tmp/run2; ...
    scripts/bench-medians.py /tmp/run1 /tmp/run2 /tmp/run3
"""
import re
import statistics
import sys
from pathlib import Path

NUMBER = re.compile(r"\d+(?: \d{3})*(?:\.\d+)?")


def rows(path):
    """The table rows of one summary.md as {metric: [cells]} in order."""
    table = {}
    for line in path.read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 5 or cells[0] in ("metric", "---") or set(cells[0]) <= {"-"}:
            continue
        table[cells[0]] = cells[1:]
    return table


def numbers(cell):
    return [float(n.replace(" ", "")) for n in NUMBER.findall(cell)]


def median_cell(cells):
    """The first cell with each of its numbers replaced by the median over all cells."""
    parsed = [numbers(c) for c in cells]
    if not parsed or not parsed[0] or any(len(p) != len(parsed[0]) for p in parsed):
        return cells[0]
    medians = iter(statistics.median(column) for column in zip(*parsed))
    return NUMBER.sub(lambda _: fmt(next(medians)), cells[0])


def fmt(value):
    if value >= 1000:
        return f"{value:,.0f}".replace(",", " ")
    if value >= 100 or value == int(value):
        return f"{value:.0f}"
    return f"{value:.3g}"


def main(dirs):
    tables = [rows(Path(d) / "summary.md") for d in dirs]
    print(f"| metric (median of {len(tables)} runs) | accord | baseline | accord/baseline | target (issue 6) |")
    print("|---|---|---|---|---|")
    for metric, first in tables[0].items():
        runs = [t[metric] for t in tables if metric in t]
        accord = median_cell([r[0] for r in runs])
        baseline = median_cell([r[1] for r in runs])
        # As the suite's own table: M3 rows compare p99 (their second number), others the first.
        i = 1 if metric.startswith("M3") else 0
        a, b = numbers(accord), numbers(baseline)
        ratio = first[2]
        if ratio != "-" and len(a) > i and len(b) > i and b[i]:
            ratio = f"{a[i] / b[i]:.2f}×"
        print(f"| {metric} | {accord} | {baseline} | {ratio} | {first[3]} |")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1:])

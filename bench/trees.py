"""Any benchmark, on this tree and on an earlier commit, alternating in one run: the ratio.

Run: .venv/bin/python -m bench.trees --base REF [--pairs 3] --figure REGEX -- NAME [ARGS...]
e.g. .venv/bin/python -m bench.trees --base 443fcef \
         --figure 'match \\+ JSON answer \\(bytes\\)\\s+median\\s+([\\d.]+)' -- match_inprocess

Checks REF out in a temporary git worktree, then runs `python -m bench.NAME ARGS` `pairs` times
in each tree in turn (base, this tree, base, this tree …), each with that tree's own code
(PYTHONPATH and working directory set to the tree, the same virtualenv). Every `--figure` is a
regular expression whose first group is a number in the output; the report gives each figure's
median in both trees and the ratio this tree / base. Machine load moves both alike, so the ratio
is the figure to compare, not either number alone.
"""

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_bench(tree: Path, name: str, args: list[str]) -> str:
    """Run one benchmark with the tree's own code; its standard output."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    done = subprocess.run(
        [sys.executable, "-m", f"bench.{name}", *args],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"bench.{name} failed in {tree}:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def figures(output: str, patterns: list[str]) -> list[float]:
    """The first group of each pattern, as a number, found in one benchmark's output."""
    found = []
    for pattern in patterns:
        match = re.search(pattern, output)
        if match is None:
            raise SystemExit(f"figure {pattern!r} not found in:\n{output}")
        found.append(float(match.group(1)))
    return found


def main() -> None:
    """Check the base out, alternate the runs, print the medians and ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", required=True, help="the commit to compare against")
    parser.add_argument("--pairs", type=int, default=3, help="runs in each tree (default 3)")
    parser.add_argument("--figure", action="append", required=True, help="regex, group 1 a number")
    parser.add_argument("bench", help="the benchmark module under bench/, e.g. match_inprocess")
    parser.add_argument("args", nargs=argparse.REMAINDER, help="its arguments")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="policy-match-base-") as scratch:
        base = Path(scratch) / "base"
        subprocess.run(
            ["git", "worktree", "add", "--detach", str(base), options.base],
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        try:
            results: dict[str, list[list[float]]] = {"base": [], "this": []}
            for pair in range(options.pairs):
                for label, tree in (("base", base), ("this", ROOT)):
                    output = run_bench(tree, options.bench, options.args)
                    results[label].append(figures(output, options.figure))
                    print(f"pair {pair + 1} {label:4s}: {results[label][-1]}", flush=True)
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(base)], cwd=ROOT)
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    print(f"bench.{options.bench}: base {options.base} against this tree ({commit}), medians")
    for index, pattern in enumerate(options.figure):
        before = statistics.median(run[index] for run in results["base"])
        after = statistics.median(run[index] for run in results["this"])
        print(f"{pattern}\n  base {before:.2f}  this {after:.2f}  ratio {after / before:.3f}")


if __name__ == "__main__":
    main()

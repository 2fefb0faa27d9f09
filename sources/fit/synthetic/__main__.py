"""`python -m sources.fit.synthetic OUT_DIR [--years 2] [--end YYYY-MM-DD] [--seed 7]`: write a
synthetic training history with a progress bar (existing files are kept)."""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path

from rich.progress import Progress

from sources.fit.synthetic.history import generate_history


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sources.fit.synthetic", description=__doc__)
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--years", type=float, default=2.0)
    parser.add_argument("--end", type=date.fromisoformat, default=None, help="last day (default: today)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    with Progress() as progress:
        task = progress.add_task("generating FIT files", total=None)
        paths = generate_history(args.out_dir, years=args.years, end=args.end, seed=args.seed,
                                 progress=lambda i, n: progress.update(task, completed=i, total=n))
    print(f"{len(paths)} FIT files in {args.out_dir}")


if __name__ == "__main__":
    main()

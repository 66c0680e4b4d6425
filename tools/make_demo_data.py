"""Write a small SYNTHETIC AIWIN-format dataset (both tasks) for demos and tests.

python tools/make_demo_data.py --out dataset/demo
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ecgplot.demo import make_demo_dataset  # noqa: E402
from ecgplot.logs import setup_logging  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--out", type=Path, default=Path("dataset/demo"))
    p.add_argument("--n-train", type=int, default=48)
    p.add_argument("--n-val", type=int, default=8)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    setup_logging()
    make_demo_dataset(args.out, args.n_train, args.n_val, args.seed)


if __name__ == "__main__":
    main()

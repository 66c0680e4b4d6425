"""Convert PhysioNet WFDB records (PTB-XL, PhysioNet/CinC 2021) into the AIWIN layout.

python tools/import_physionet.py --src ../shared/data --out dataset/physionet_t2 --task 2
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ecgplot.aiwin import BadInputError  # noqa: E402
from ecgplot.logs import setup_logging  # noqa: E402
from ecgplot.physionet import import_physionet  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument(
        "--src", required=True, type=Path, help="PTB-XL root, CinC folder, or a folder of them"
    )
    parser.add_argument("--out", required=True, type=Path, help="AIWIN dataset folder to write")
    parser.add_argument("--task", type=int, choices=(1, 2), required=True)
    parser.add_argument("--skip-bad", action="store_true", help="skip and report bad records")
    args = parser.parse_args()
    setup_logging(args.out / "import.log")
    try:
        import_physionet(args.src, args.out, args.task, skip_bad=args.skip_bad)
    except BadInputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())

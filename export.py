"""Export a trained run to Paddle inference format and ONNX (one model per fold).

    python export.py --run output/cpu_small_task2
    python predict.py --run output/cpu_small_task2 --data DIR --backend paddle   # or onnx

Writes RUN/export/fold{k}/inference.{json,pdiparams} and model.onnx; the exported models
output probabilities, like predict.py's dygraph path.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ecgplot.aiwin import BadInputError
from ecgplot.logs import setup_logging


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--run", required=True, type=Path, help="run folder written by train.py")
    args = p.parse_args()
    setup_logging(args.run / "export.log")
    from ecgplot.export import export_run

    try:
        info = export_run(args.run)
    except BadInputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"exported: {info}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Train the digitiser's learned row reader on prints the package draws of real records;
writes the weights and, beside them, a JSON of the records used and the figures.

python tools/train_row_reader.py --data tests/data/physionet
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ecgplot.atomic import atomic_path  # noqa: E402
from ecgplot.digitize.row_net import weights_path  # noqa: E402
from ecgplot.digitize.row_train import HELD_OUT_RECORDS, RowTraining, train_row_reader  # noqa: E402
from ecgplot.logs import setup_logging  # noqa: E402
from ecgplot.physionet import list_source  # noqa: E402
from ecgplot.trainer import configure_cpu  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--data", type=Path, default=Path("tests/data/physionet"), help="WFDB records")
    p.add_argument("--out", type=Path, default=weights_path(), help="default: %(default)s")
    p.add_argument("--log", type=Path, default=Path("output/row_reader/train.log"))
    p.add_argument("--held-out", default=",".join(HELD_OUT_RECORDS), help="records not trained on")
    p.add_argument("--threads", type=int, default=0, help="CPU threads (0: all cores)")
    defaults = RowTraining()
    for field in ("pages", "steps", "batch", "window", "seed"):
        p.add_argument(f"--{field}", type=int, default=getattr(defaults, field))
    p.add_argument("--lr", type=float, default=defaults.lr)
    args = p.parse_args()
    setup_logging(args.log)
    configure_cpu(args.threads, False)
    records = {rec.name: rec.signal for rec in (src.load() for src in list_source(args.data))}
    held = set(args.held_out.split(","))
    train = sorted(k for k in records if k not in held)
    held_out = sorted(k for k in records if k in held)
    plan = RowTraining(args.pages, args.steps, args.batch, args.window, args.lr, args.seed)
    figures = train_row_reader(
        [records[k] for k in train], [records[k] for k in held_out], args.out, plan
    )
    summary = dict(trained_on=train, held_out=held_out, plan=vars(plan), figures=figures)
    with atomic_path(args.out.with_suffix(".json")) as tmp:
        tmp.write_text(json.dumps(summary, indent=1))
    print(json.dumps(figures))


if __name__ == "__main__":
    main()

"""Fine-tune an ImageNet ResNet on rendered ECG plots (AIWIN task 1 or task 2).

    python train.py --config configs/task2_resnet50_640.yaml [key=value ...]
    python train.py --config configs/cpu_small_task1.yaml data.fold=all
    python train.py --config configs/cpu_small_task1.yaml --print-config   (merged, then exit)
    python -m paddle.distributed.launch train.py --config ...      (multi-GPU)

Every option lives in the YAML; ``key=value`` overrides any of them (``train.epochs=5``).
"""

from __future__ import annotations

import argparse
import os
import sys

from ecgplot.experiment import load_experiment
from ecgplot.logs import setup_logging


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--config", required=True, help="experiment YAML (configs/)")
    p.add_argument("--resume", action="store_true", help="continue from the run's last checkpoint")
    p.add_argument(
        "--print-config", action="store_true", help="print the merged config (YAML) and exit"
    )
    p.add_argument("overrides", nargs="*", metavar="KEY=VALUE")
    args = p.parse_args()
    try:
        cfg = load_experiment(args.config, args.overrides)
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.print_config:
        from ecgplot.config import dump_yaml, to_dict

        print(dump_yaml(to_dict(cfg)), end="")
        return 0
    # under paddle.distributed.launch only rank 0 writes the run's log file
    rank = int(os.environ.get("PADDLE_TRAINER_ID", "0"))
    setup_logging(cfg.run_dir / "train.log" if rank == 0 else None)
    from ecgplot.trainer import fit  # imports paddle: after the config is known to be valid

    fit(cfg, resume=args.resume)
    return 0


if __name__ == "__main__":
    sys.exit(main())

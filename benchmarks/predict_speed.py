"""Prediction speed from MAT records to answer.csv: dygraph vs exported models.

In one run on the same records and the same run folder: records/s of predict_folder +
write_prediction for the dygraph model, the exported model on Paddle Inference (oneDNN on
the CPU) and on ONNX Runtime, and the ratios against dygraph. Without --run, a run is
made first from the small CPU config (one training step: speed does not depend on the
weights). Last line: JSON.

    python benchmarks/predict_speed.py [--run output/cpu_small_task2] [--records 120]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ecgplot.experiment import load_experiment  # noqa: E402
from ecgplot.infer import export_run, load_run, predict_folder, write_prediction  # noqa: E402
from ecgplot.physionet import import_physionet  # noqa: E402
from ecgplot.trainer import fit  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--run", type=Path, help="trained run (default: make a one-step run)")
    p.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data")
    p.add_argument("--records", type=int, default=120, help="records to predict")
    p.add_argument("--repeats", type=int, default=2, help="timed passes per backend (best kept)")
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        data = tmp / "data"
        import_physionet(args.shared, data, task=2)
        run_dir = args.run
        if run_dir is None:
            cfg = load_experiment(
                ROOT / "configs" / "cpu_rows12_task2.yaml",
                [
                    f"data.root={data}",
                    f"output_dir={tmp}",
                    "name=speed",
                    "train.epochs=1",
                    "train.max_steps_per_epoch=1",
                    "data.limit=60",
                ],
            )
            fit(cfg)
            run_dir = tmp / "speed"
        else:
            run_dir = Path(
                shutil.copytree(
                    run_dir, tmp / "run", ignore=shutil.ignore_patterns("export", "visualdl")
                )
            )
        export_run(run_dir)
        run = load_run(run_dir)
        folder = tmp / "records"
        folder.mkdir()
        for mat in sorted((data / "train").glob("*.mat"))[: args.records]:
            shutil.copy(mat, folder / mat.name)
        figures: dict[str, float] = {
            "records": args.records,
            "image_size": run.cfg.render.size,
            "folds": len(run.checkpoints),
        }
        for backend in ("dygraph", "paddle", "onnx"):
            best = float("inf")
            for _ in range(args.repeats):
                start = time.perf_counter()
                pred = predict_folder(run, folder, backend=backend)
                write_prediction(
                    pred, run.cfg.data.task, tmp / f"{backend}.csv", tmp / f"{backend}_probs.csv"
                )
                best = min(best, time.perf_counter() - start)
            figures[f"{backend}_records_per_s"] = round(args.records / best, 2)
            print(f"{backend:8s} {args.records / best:7.2f} records/s ({best:.1f} s)")
        for backend in ("paddle", "onnx"):
            ratio = figures[f"{backend}_records_per_s"] / figures["dygraph_records_per_s"]
            figures[f"{backend}_vs_dygraph"] = round(ratio, 2)
            print(f"{backend} / dygraph: {ratio:.2f}x")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()

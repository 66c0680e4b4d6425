"""Accuracy from pictures against accuracy from the MAT records, out-of-fold: the
signal-feature model, plain and print-aware (``features.print_copies: 3x4``), the image
model (cpu_small, beat renderings; its recipe print-aware, ``print_aug.p: 0.5``) and the
1-D model, each plain and print-aware, through the digitiser.

Imports the 627 shared records for each task, prints every record as the common 3x4 +
lead-II rhythm strip print with the independent drawer (drawers/printsim.py, benchmark
settings of benchmarks/digitize.py), turns the print into each condition, digitises it
(ecgplot.digitize; digitised records cached under --out), trains every fold of
each model's config, and scores each fold
model on its own validation records twice: from the MAT records and from the pictures
(the same records, so the difference is paired). Bootstrap 95% intervals. Last line: JSON.

    python benchmarks/picture_accuracy.py [--tasks 1 2] [--conditions "phone photo"]
        [--models features features_print_aware image image_plain signal1d ...]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from multiprocessing import Pool
from pathlib import Path

import numpy as np
from tqdm import tqdm

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from digitize import benchmark_style  # noqa: E402
from drawers.printsim import CONDITIONS, draw_print, photograph  # noqa: E402
from ecgplot.aiwin import (  # noqa: E402  # noqa: E402
    BadInputError,
    label_matrix,
    read_labels,
    read_probs_frame,
    write_probs,
)
from ecgplot.decide import decide  # noqa: E402
from ecgplot.digitize import digitize_picture  # noqa: E402
from ecgplot.evaluate import HEADLINE, evaluate, paired_difference  # noqa: E402
from ecgplot.experiment import finished_run, load_experiment  # noqa: E402
from ecgplot.infer import load_predictors, load_run, predict_signals  # noqa: E402
from ecgplot.logs import setup_logging  # noqa: E402
from ecgplot.physionet import import_physionet, list_source  # noqa: E402
from ecgplot.trainer import fit  # noqa: E402

# each model measured: (config name before _task{T}.yaml, overrides)
VARIANTS = {
    "features": ("features", []),
    "features_print_aware": ("features", ["features.print_copies=3x4"]),
    "image": ("cpu_small", []),  # the recipe: print-aware (print_aug.p: 0.5)
    "image_plain": ("cpu_small", ["print_aug.p=0"]),
    "signal1d": ("signal1d", []),
    "signal1d_print_aware": ("signal1d", ["print_aug.p=0.5"]),
}
# (print-aware, plain) training of the same model, compared paired
PRINT_AWARE = (
    ("features_print_aware", "features"),
    ("image", "image_plain"),
    ("signal1d_print_aware", "signal1d"),
)


def digitise_job(job: tuple[int, str, np.ndarray, tuple[str, ...], Path]) -> dict[str, str]:
    """Print one record (3x4 + II), photograph it in each condition, digitise, cache."""
    index, name, signal, conditions, out = job
    paths = {c: out / c.replace(" ", "_").replace("/", "") / f"{name}.npy" for c in conditions}
    if all(p.is_file() for p in paths.values()):  # digitised by an earlier run
        return {}
    rng = np.random.default_rng([index, 0])  # the 3x4 print of benchmarks/digitize.py
    page = draw_print(signal, benchmark_style("3x4", rng))
    problems = {}
    for condition in CONDITIONS:
        picture = photograph(page.image, condition, rng)
        if condition not in conditions:
            continue
        path = paths[condition]
        if path.is_file():
            continue
        try:
            got = digitize_picture(picture, f"{name} ({condition})").signal
        except BadInputError as exc:
            problems[f"{name} {condition}"] = exc.problem
            got = np.full_like(signal, np.nan)  # refused: the model sees nothing
        path.parent.mkdir(parents=True, exist_ok=True)
        np.save(path, got.astype(np.float32))
    return problems


def picture_oof(run_dir: Path, digitised: Path, task: int) -> tuple[list[str], np.ndarray]:
    """Every record's probabilities from its picture, by the fold model that did not
    train on it (any run kind: the prediction path of predict.py --images)."""
    run = load_run(run_dir)
    names, probs = [], []
    for ckpt, predictor in zip(run.checkpoints, load_predictors(run)):
        val = list(read_probs_frame(ckpt.parent / "val_probs.csv", task).index)
        signals = [np.load(digitised / f"{n}.npy") for n in val]
        for start in tqdm(range(0, len(val), 32), desc=f"{run_dir.name} {ckpt.parent.name}"):
            probs.append(predict_signals([predictor], signals[start : start + 32], run.cfg))
        names += val
    return names, np.concatenate(probs)


def measure(variant: str, task: int, data: Path, truth: dict, args) -> tuple[dict, dict]:
    """Train (or reuse) every fold of one variant; score it out-of-fold from the MAT
    records and from each condition's pictures. Returns (figures, {"MAT" or condition:
    probabilities in the order of the out-of-fold table, "lines": printed lines})."""
    config, extra = VARIANTS[variant]
    if config == "cpu_small":
        extra = [*extra, f"train.cache_dir={args.cache}"]
    name = f"task{task}_{variant}"
    overrides = [
        f"data.root={data}",
        f"output_dir={args.out}",
        "data.fold=all",
        f"data.n_folds={args.folds}",
        f"name={name}",
        *extra,
    ]
    cfg = load_experiment(ROOT / "configs" / f"{config}_task{task}.yaml", overrides)
    if not finished_run(cfg):  # trained by an earlier run of this or benchmarks/accuracy.py
        fit(cfg)
    run_dir = args.out / name
    thresholds = load_run(run_dir).thresholds
    mat = read_probs_frame(run_dir / "oof_probs.csv", task)
    order = list(mat.index)
    y = label_matrix(truth, order, task)
    key = HEADLINE[task]

    def scored(probs: np.ndarray, tag: str) -> dict:
        labels = decide(probs, task, thresholds)
        return evaluate(
            task, truth, order, labels, probs, args.out / f"eval_{name}_{tag}", args.bootstrap
        )

    base = scored(mat.to_numpy(), "mat")
    lo, hi = base["ci95"][key]
    lines = [f"task {task} {variant:12s} MAT          {key} {base[key]:.3f} ({lo:.3f}-{hi:.3f})"]
    figures = {f"task{task}_{variant}_mat_{key}": round(base[key], 4)}
    out = {"MAT": mat.to_numpy()}
    for condition in args.conditions:
        tag = condition.replace(" ", "_").replace("/", "")
        names, probs = picture_oof(run_dir, args.out / "digitised" / tag, task)
        probs = probs[[names.index(n) for n in order]]
        write_probs(args.out / f"{name}_{tag}_oof_probs.csv", order, probs, task)
        res = scored(probs, tag)
        d, dlo, dhi = paired_difference(task, y, probs, out["MAT"], args.bootstrap)
        lo, hi = res["ci95"][key]
        ratio = res[key] / base[key]
        lines.append(
            f"task {task} {variant:12s} {condition:12s} {key} {res[key]:.3f} ({lo:.3f}-{hi:.3f})"
            f"  ratio {ratio:.3f}  minus MAT {d:+.3f} ({dlo:+.3f}..{dhi:+.3f})"
        )
        figures[f"task{task}_{variant}_{tag}_{key}"] = round(res[key], 4)
        figures[f"task{task}_{variant}_{tag}_ratio"] = round(ratio, 3)
        out[condition] = probs
    out["y"] = y
    out["lines"] = lines
    return figures, out


def print_aware_gains(task: int, measured: dict, n_boot: int, figures: dict) -> list[str]:
    """Print-aware minus plain training of the same model, paired over the same records,
    on the MAT records and on each condition's pictures (what print-awareness costs on
    MAT and gains on pictures)."""
    lines = []
    for variant, plain_variant in PRINT_AWARE:
        if variant not in measured or plain_variant not in measured:
            continue
        probs, plain = measured[variant], measured[plain_variant]
        for condition in [c for c in probs if c not in ("y", "lines")]:
            d, lo, hi = paired_difference(
                task, probs["y"], probs[condition], plain[condition], n_boot
            )
            lines.append(
                f"task {task} {variant} minus {plain_variant}, {condition}: "
                f"{d:+.3f} ({lo:+.3f}..{hi:+.3f})"
            )
            tag = condition.replace(" ", "_").replace("/", "")
            figures[f"task{task}_{variant}_gain_{tag}"] = round(d, 4)
    print("\n".join(lines), flush=True)
    return lines


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data")
    p.add_argument("--tasks", type=int, nargs="+", default=[1, 2])
    p.add_argument("--conditions", nargs="+", default=["phone photo", "clean"])
    p.add_argument("--folds", type=int, default=5)
    p.add_argument("--bootstrap", type=int, default=1000)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument(
        "--models",
        nargs="+",
        default=["features", "features_print_aware", "image"],
        choices=list(VARIANTS),
    )
    p.add_argument("--cache", type=Path, default=ROOT / "output" / "cache")
    p.add_argument("--out", type=Path, default=ROOT / "output" / "benchmarks" / "picture_accuracy")
    args = p.parse_args()
    args.out = args.out.resolve()  # run configs hold absolute paths: reused from any cwd
    setup_logging(args.out / "picture_accuracy.log")
    start = time.perf_counter()
    sources = list_source(args.shared)
    cache = args.out / "digitised"  # one .npy per record and condition

    def jobs():
        for i, src in enumerate(sources):
            rec = src.load()
            yield i, rec.name, rec.signal, tuple(args.conditions), cache

    refused: dict[str, str] = {}
    with Pool(args.workers) as pool:
        for problems in tqdm(pool.imap(digitise_job, jobs(), chunksize=4), total=len(sources)):
            refused.update(problems)
    figures: dict = {"records": len(sources), "refused": len(refused)}
    lines = []
    for task in args.tasks:
        data = args.out / "data" / f"task{task}"
        if not (data / "trainreference.csv").is_file():
            import_physionet(args.shared, data, task=task)
        truth = read_labels(data / "trainreference.csv", task)
        measured = {}
        for variant in args.models:
            found, probs = measure(variant, task, data, truth, args)
            measured[variant] = probs
            figures.update(found)
            lines += probs.pop("lines")
            print("\n".join(lines[-1 - len(args.conditions) :]), flush=True)
        lines += print_aware_gains(task, measured, args.bootstrap, figures)
    figures["minutes"] = round((time.perf_counter() - start) / 60, 1)
    print(f"\nout-of-fold over {args.folds} folds, 3x4 + II prints, bootstrap 95% intervals:")
    print("\n".join(lines))
    if refused:
        print(f"refused pictures (count as seeing nothing): {len(refused)}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()

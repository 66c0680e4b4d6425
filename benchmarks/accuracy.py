"""Out-of-fold accuracy on the 627 real PhysioNet records: the image model, the feature
model, the 1-D SE-ResNet and every fusion of them, per task, on the same folds.

Imports ../shared/data for task 1 and task 2, trains every fold of
configs/cpu_small_task{T}.yaml (the CPU image recipe), configs/features_task{T}.yaml (the
signal-feature model) and configs/signal1d_task{T}.yaml (the 1-D model), fuses every
pair and all three by equal logit weights (`mean`, the headline fusion; all three also
by weights, class_weights and stack fitted on out-of-fold probabilities, cross-fitted),
and scores the out-of-fold predictions of all records with bootstrap 95% intervals
(decisions with out-of-fold thresholds and the label rules). The figure an ensembling
user asks for: all three minus the two signal models (features + 1-D), paired over the
same records; with image_stft (configs/cpu_small_stft_task{T}.yaml) also what the STFT
stream adds to the image model. A run whose folder already holds its finished
out-of-fold predictions for the same config is reused, not retrained; frozen-trunk maps
are cached in --cache and features in each feature run. Last line: JSON.

    python benchmarks/accuracy.py [--folds 5] [--epochs N] [--tasks 1 2]
        [--models image features signal1d [image_stft]]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ecgplot.aiwin import label_matrix, read_labels, read_probs_frame  # noqa: E402
from ecgplot.decide import decide  # noqa: E402
from ecgplot.ensemble import ensemble, run_member, write_ensemble  # noqa: E402
from ecgplot.evaluate import HEADLINE, evaluate, paired_difference  # noqa: E402
from ecgplot.experiment import finished_run, load_experiment  # noqa: E402
from ecgplot.infer import load_run  # noqa: E402
from ecgplot.logs import setup_logging  # noqa: E402
from ecgplot.physionet import import_physionet  # noqa: E402
from ecgplot.trainer import fit  # noqa: E402

KEYS = {1: ("auc", "f1", "accuracy"), 2: ("macro_auc", "macro_f1", "micro_f1")}
# The headline fusion first, fixed before the run: equal logit weights. In three earlier
# measurements fitted weights cost task 2 0.01-0.02 macro-AUC (12 classes, a few dozen
# positives each: they overfit) and tied on task 1. The other methods follow.
FUSIONS = ("mean", "weights", "class_weights", "stack")
CONFIGS = {
    "image": "cpu_small",
    "features": "features",
    "signal1d": "signal1d",
    "image_stft": "cpu_small_stft",  # the recipe with the STFT stream as a third view
}
MEMBERS = ("image", "features", "signal1d")  # the models fused
SHORT = {"image": "img", "features": "feat", "signal1d": "1d"}
# paired differences reported when both sides were scored: (a, b, figure name)
PAIRED = (
    ("img+feat+1d", "feat+1d", "image_adds"),  # what the image model adds to the signal models
    ("image_stft", "image", "stft_adds"),  # what the STFT view adds to the image model
)


def fusions(members: dict, truth: dict, out: Path, task: int) -> dict[str, tuple]:
    """Every pair and all of the members fused by ``mean``; all of them also by the
    fitted methods. Returns name -> (oof csv, thresholds, oof probabilities)."""
    from itertools import combinations

    found = {}
    names = list(members)
    for k in range(2, len(names) + 1):
        for group in combinations(names, k):
            methods = FUSIONS if k == len(names) else FUSIONS[:1]
            for method in methods:
                fused = ensemble([members[m] for m in group], truth, method)
                label = "+".join(SHORT[m] for m in group)
                label += "" if method == "mean" else f" ({method})"
                folder = out / f"task{task}_fusion_{'_'.join(group)}_{method}"
                write_ensemble(fused, folder / "answer.csv")
                found[label] = (folder / "oof_probs.csv", fused.thresholds)
    return found


def score(task: int, truth: dict, probs_csv: Path, thresholds, out: Path, n_boot: int) -> dict:
    table = read_probs_frame(probs_csv, task)
    names, probs = list(table.index), table.to_numpy()
    labels = decide(probs, task, thresholds)
    return evaluate(task, truth, names, labels, probs, out, n_boot)


def paired_line(task: int, truth: dict, a, b, name_a: str, name_b: str, n_boot: int):
    """``a`` minus ``b`` (out-of-fold tables) over the same records, paired bootstrap:
    (printed line, [difference, low, high])."""
    names = sorted(a.index)
    y = label_matrix(truth, names, task)
    d, lo, hi = paired_difference(task, y, a.loc[names].to_numpy(), b.loc[names].to_numpy(), n_boot)
    line = (
        f"task {task} {name_a} minus {name_b}: {HEADLINE[task]} {d:+.3f} "
        f"({lo:+.3f} to {hi:+.3f}, paired)"
    )
    return line, [round(d, 4), round(lo, 4), round(hi, 4)]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data")
    p.add_argument("--folds", type=int, default=5)
    p.add_argument("--epochs", type=int, help="image model epochs (default: the config's)")
    p.add_argument("--signal1d-epochs", type=int, help="1-D model epochs (default: the config's)")
    p.add_argument("--tasks", type=int, nargs="+", default=[1, 2])
    p.add_argument("--models", nargs="+", default=list(MEMBERS), choices=list(CONFIGS))
    p.add_argument("--bootstrap", type=int, default=1000)
    p.add_argument("--out", type=Path, default=ROOT / "output" / "benchmark_accuracy")
    p.add_argument("--cache", type=Path, default=ROOT / "output" / "cache")
    args = p.parse_args()
    args.out = args.out.resolve()  # run configs hold absolute paths: reused from any cwd
    setup_logging(args.out / "accuracy.log")
    start = time.perf_counter()
    figures: dict[str, float] = {"folds": args.folds}
    lines = []
    for task in args.tasks:
        data = args.out / "data" / f"task{task}"
        if not (data / "trainreference.csv").is_file():
            import_physionet(args.shared, data, task=task)
        common = [
            f"data.root={data}",
            f"output_dir={args.out}",
            "data.fold=all",
            f"data.n_folds={args.folds}",
        ]
        runs = {}
        for model in args.models:
            overrides = [*common, f"name=task{task}_{model}"]
            if model.startswith("image"):
                overrides.append(f"train.cache_dir={args.cache}")
                if args.epochs:
                    overrides.append(f"train.epochs={args.epochs}")
            if model == "signal1d" and args.signal1d_epochs:
                overrides.append(f"train.epochs={args.signal1d_epochs}")
            cfg = load_experiment(ROOT / "configs" / f"{CONFIGS[model]}_task{task}.yaml", overrides)
            t0 = time.perf_counter()
            if not finished_run(cfg):
                fit(cfg)
                figures[f"task{task}_{model}_minutes"] = round((time.perf_counter() - t0) / 60, 1)
            runs[model] = cfg.run_dir
        truth = read_labels(data / "trainreference.csv", task)
        sources = {m: (r / "oof_probs.csv", load_run(r).thresholds) for m, r in runs.items()}
        members = {m: run_member(r) for m, r in runs.items() if m in MEMBERS}
        if len(members) > 1:
            sources.update(fusions(members, truth, args.out, task))
        for model, (csv, thresholds) in sources.items():
            result = score(
                task, truth, csv, thresholds, args.out / f"eval_t{task}_{model}", args.bootstrap
            )
            cells = []
            for key in KEYS[task]:
                lo, hi = result["ci95"][key]
                figures[f"task{task}_{model}_{key}"] = round(result[key], 4)
                figures[f"task{task}_{model}_{key}_ci95"] = [round(lo, 3), round(hi, 3)]
                cells.append(f"{key} {result[key]:.3f} ({lo:.3f}-{hi:.3f})")
            lines.append(f"task {task} {model:20s} " + ", ".join(cells))
            print(lines[-1], flush=True)
        oof = {k: read_probs_frame(csv, task) for k, (csv, _) in sources.items()}
        for a, b, figure in PAIRED:
            if a in oof and b in oof:
                line, figures[f"task{task}_{figure}"] = paired_line(
                    task, truth, oof[a], oof[b], a, b, args.bootstrap
                )
                lines.append(line)
                print(lines[-1], flush=True)
    figures["minutes"] = round((time.perf_counter() - start) / 60, 1)
    print(
        f"\nout-of-fold over {args.folds} folds, bootstrap 95% intervals "
        f"({figures['minutes']} min):"
    )
    print("\n".join(lines))
    print(json.dumps(figures))


if __name__ == "__main__":
    main()

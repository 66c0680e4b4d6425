"""Robustness of the picture-as-image models to pictures of paper ECGs drawn by another
program: a model trained on clean renders only and one trained with paper styles and
photo augmentation, scored on pictures of the same records.

Imports ../shared/data for the task, trains every fold of configs/cpu_rows12_task{T}.yaml
(clean) and configs/cpu_paper_task{T}.yaml (paper styles, photo augmentation, cached
augmented copies) at --size px, then prints every record as a 3x4 + lead-II print with the
independent drawer (tests/printsim.py, the settings of benchmarks/digitize.py), turns it
into a clean picture, a colour scan, a black-and-white scan and a phone photo, and
scores each condition out-of-fold: every record is predicted by the fold model that did
not train on it, its picture brought to the model by the picture-as-image pipeline
(``ecgplot.pictures.picture_to_plot``). Bootstrap 95% intervals; a contact sheet PNG
shows one record in every condition. Last line: JSON. (Digitised pictures through the
signal models: benchmarks/picture_accuracy.py.)

    python benchmarks/robustness.py [--task 1] [--folds 5] [--size 256] [--augmented N]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import paddle
from sklearn.metrics import roc_auc_score
from tqdm import tqdm

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from digitize import benchmark_style  # noqa: E402
from ecgplot.aiwin import label_matrix, read_labels, read_record  # noqa: E402
from ecgplot.data import load_split, normalize_batch  # noqa: E402
from ecgplot.evaluate import bootstrap_ci  # noqa: E402
from ecgplot.experiment import load_experiment  # noqa: E402
from ecgplot.infer import load_models, load_run  # noqa: E402
from ecgplot.logs import setup_logging  # noqa: E402
from ecgplot.model import probabilities  # noqa: E402
from ecgplot.physionet import import_physionet  # noqa: E402
from ecgplot.pictures import picture_to_plot  # noqa: E402
from ecgplot.plots import plt, save_figure  # noqa: E402
from ecgplot.trainer import fit  # noqa: E402
from tests.printsim import CONDITIONS, draw_print, photograph  # noqa: E402


@paddle.no_grad()
def trunk_of(model, images: list[np.ndarray], batch: int = 16) -> np.ndarray:
    model.eval()
    out = []
    for s in range(0, len(images), batch):
        x = normalize_batch(paddle.to_tensor(np.stack(images[s : s + batch])))
        out.append(model.trunk(x).numpy())
    return np.concatenate(out)


def score(y: np.ndarray, p: np.ndarray, task: int, n_boot: int) -> tuple[float, tuple]:
    def fn(y, p):
        if task == 1:
            return {"auc": float(roc_auc_score(y, p))}
        aucs = [
            roc_auc_score(y[:, c], p[:, c]) for c in range(y.shape[1]) if 0 < y[:, c].sum() < len(y)
        ]
        return {"auc": float(np.mean(aucs))}

    return fn(y, p)["auc"], bootstrap_ci(fn, (y, p), n_boot)["auc"]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data")
    p.add_argument("--task", type=int, default=1, choices=(1, 2))
    p.add_argument("--folds", type=int, default=5)
    p.add_argument("--size", type=int, default=256)
    p.add_argument("--bootstrap", type=int, default=1000)
    p.add_argument("--limit", type=int, help="only the first N records (a smoke run)")
    p.add_argument(
        "--augmented", type=int, help="cached photo copies per record (default: the config's)"
    )
    p.add_argument("--out", type=Path, default=ROOT / "output" / "benchmark_robustness")
    p.add_argument("--cache", type=Path, default=ROOT / "output" / "cache")
    args = p.parse_args()
    setup_logging(args.out / "robustness.log")
    start = time.perf_counter()
    task = args.task
    data = args.out / "data" / f"task{task}"
    if not (data / "trainreference.csv").is_file():
        import_physionet(args.shared, data, task=task)
    common = [
        f"data.root={data}",
        f"output_dir={args.out}",
        "data.fold=all",
        f"data.n_folds={args.folds}",
        f"render.size={args.size}",
        f"train.cache_dir={args.cache}",
    ] + ([f"data.limit={args.limit}"] if args.limit else [])
    runs, figures = {}, {"task": task, "folds": args.folds, "size": args.size}
    for model, config in (("clean-trained", "cpu_rows12"), ("paper-trained", "cpu_paper")):
        t0 = time.perf_counter()
        overrides = [*common, f"name=task{task}_{config}"]
        if args.augmented and config == "cpu_paper":
            overrides.append(f"train.cache_augmented={args.augmented}")
        cfg = load_experiment(ROOT / "configs" / f"{config}_task{task}.yaml", overrides)
        fit(cfg)
        runs[model] = load_run(args.out / f"task{task}_{config}")
        figures[f"{model}_train_minutes"] = round((time.perf_counter() - t0) / 60, 1)

    labels = read_labels(data / "trainreference.csv", task)
    names = sorted(labels)[: args.limit]
    y = label_matrix(labels, names, task)
    y = y.reshape(len(names), -1)[:, 0] if task == 1 else y
    fold_of = {}
    for k in range(args.folds):
        for n in load_split(runs["clean-trained"].cfg, k).val:
            fold_of[n] = k
    signals = [read_record(data / "train" / f"{n}.mat").signal for n in names]
    models = {m: load_models(r) for m, r in runs.items()}
    sheet, lines = {}, []
    pages = [
        draw_print(s, benchmark_style("3x4", np.random.default_rng([i, 0]))).image
        for i, s in enumerate(tqdm(signals, desc="prints"))
    ]
    for cond in CONDITIONS:
        pics = [
            photograph(page, cond, np.random.default_rng([i, 1]))
            for i, page in enumerate(tqdm(pages, desc=cond))
        ]
        sheet[cond] = pics[0]
        inputs = [picture_to_plot(pic, args.size, source=None) for pic in pics]
        maps = trunk_of(models["clean-trained"][0], inputs)  # frozen ImageNet trunk: shared
        for model, folds in models.items():
            probs = np.zeros((len(names), 12 if task == 2 else 1), np.float32)
            for k, net in enumerate(folds):
                idx = [i for i, n in enumerate(names) if fold_of[n] == k]
                with paddle.no_grad():
                    logits = net.top(paddle.to_tensor(maps[idx].astype(np.float32)))
                p_fold = probabilities(logits, task)  # the model's own activation
                probs[idx] = p_fold[:, 1:] if task == 1 else p_fold
            value, (lo, hi) = score(y, probs[:, 0] if task == 1 else probs, task, args.bootstrap)
            key = f"{model} {cond}"
            figures[key] = round(value, 4)
            figures[f"{key} ci95"] = [round(lo, 3), round(hi, 3)]
            metric = "AUC" if task == 1 else "macro-AUC"
            lines.append(f"{model:14s} {cond:12s} {metric} {value:.3f} ({lo:.3f}-{hi:.3f})")
            print(lines[-1], flush=True)
    for model in models:
        clean, photo = figures[f"{model} clean"], figures[f"{model} phone photo"]
        figures[f"{model} photo/clean"] = round(photo / clean, 3)

    fig, axes = plt.subplots(2, len(sheet), figsize=(4 * len(sheet), 8))
    for c, (cond, pic) in enumerate(sheet.items()):
        axes[0, c].imshow(pic)
        axes[0, c].set_title(f"{cond}: picture", fontsize=9)
        axes[1, c].imshow(
            picture_to_plot(pic, args.size, source=None), cmap="gray", vmin=0, vmax=255
        )
        axes[1, c].set_title(f"{cond}: model input", fontsize=9)
    for ax in axes.flat:
        ax.axis("off")
    save_figure(fig, args.out / "contact_sheet.png", dpi=90)
    figures["minutes"] = round((time.perf_counter() - start) / 60, 1)
    minutes = figures["minutes"]
    print(f"\nout-of-fold over {args.folds} folds, task {task}, bootstrap 95% ({minutes} min):")
    print("\n".join(lines))
    print(json.dumps(figures))


if __name__ == "__main__":
    main()

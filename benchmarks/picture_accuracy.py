"""Accuracy from pictures against accuracy from the MAT records, out-of-fold: the
signal-feature model, the image model (cpu_small, beat renderings) and the 1-D model,
each plain, print-aware in the 3x4 layout, or print-aware in every layout with the
digitiser's errors (``*_layouts``), through the digitiser; and their fusion on pictures.

Imports the 627 shared records for each task, prints every record in each layout (3x4 +
lead-II rhythm strip, 6x2, 12x1 at 5 mm/mV) with the independent drawer
(drawers/printsim.py, the per-record settings of benchmarks/digitize.py), turns each
print into each condition, digitises it (ecgplot.digitize; cached under --out), trains
every fold of each model's config, and scores each fold model on its own validation
records from the MAT records and from every picture set (the same records, so the
difference is paired); each run's picture rows go to its oof_picture_probs.csv.
``--drawer cart`` prints the hard cases instead (drawers/cart.py, the prints of
benchmarks/digitize.py --drawer cart: rows as close as carts print them, tall complexes
crossing the next row; layouts 3x4, 6x2, 12x1, 12x1@10; conditions scan and close-up).
``--fuse`` fuses models on pictures: the mean-logit fusion with thresholds chosen on the
MAT records only, and picture-aware (fusion and thresholds fitted on the MAT and
picture rows together). Bootstrap 95% intervals. Last line: JSON.

    python benchmarks/picture_accuracy.py [--tasks 1 2] [--conditions "phone photo"]
        [--layouts 3x4 6x2 12x1] [--models features signal1d_layouts ...]
        [--fuse features_layouts signal1d_layouts image] [--digitise-only]
        [--drawer cart --layouts 3x4 --conditions scan close-up]
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from multiprocessing import Pool
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from digitize import CART_CONDITIONS, CART_LAYOUTS, LAYOUTS, pictures_of  # noqa: E402
from drawers.printsim import CONDITIONS  # noqa: E402
from ecgplot.aiwin import (  # noqa: E402  # noqa: E402
    BadInputError,
    label_matrix,
    prob_columns,
    read_labels,
    read_probs_frame,
    write_probs,
)
from ecgplot.decide import decide  # noqa: E402
from ecgplot.digitize import digitize_picture  # noqa: E402
from ecgplot.ensemble import Member, ensemble  # noqa: E402
from ecgplot.evaluate import (  # noqa: E402
    HEADLINE,
    decision_f1,
    evaluate,
    headline,
    paired_difference,
)
from ecgplot.experiment import finished_run, load_experiment  # noqa: E402
from ecgplot.infer import fold_of_records, load_run, predict_out_of_fold  # noqa: E402
from ecgplot.logs import setup_logging  # noqa: E402
from ecgplot.physionet import import_physionet, list_source  # noqa: E402
from ecgplot.run_folder import OOF_PICTURE_PROBS  # noqa: E402
from ecgplot.trainer import fit  # noqa: E402

# each model measured: (config name before _task{T}.yaml, overrides)
VARIANTS = {
    "features": ("features", ["features.print_copies=null"]),
    "features_print_aware": (
        "features",
        ["features.print_copies=3x4", "features.print_errors=false"],
    ),
    "image": ("cpu_small", []),  # the recipe: print-aware (print_aug.p: 0.5), 40 Hz low-pass
    "image_unfiltered": ("cpu_small", ["render.lowpass_hz=null"]),  # the recipe before
    "image_plain": ("cpu_small", ["print_aug.p=0"]),
    "signal1d": ("signal1d", ["print_aug.p=0"]),
    "signal1d_print_aware": (
        "signal1d",
        ["print_aug.p=0.5", "print_aug.layout=3x4", "print_aug.errors=false"],
    ),
    # print-aware in every layout, the prints carrying the digitiser's errors (the recipe)
    "features_layouts": (
        "features",
        ["features.print_copies=[3x4, 6x2, 12x1]", "features.print_errors=true"],
    ),
    "signal1d_layouts": (
        "signal1d",
        ["print_aug.p=0.5", "print_aug.layout=[3x4, 6x2, 12x1]", "print_aug.errors=true"],
    ),
    # at 10 epochs (half the recipe's: 4 minutes a fold on 2 cores), plain and print-aware
    "signal1d10": ("signal1d", ["train.epochs=10", "print_aug.p=0"]),
    "signal1d_layouts10": (
        "signal1d",
        [
            "train.epochs=10",
            "print_aug.p=0.5",
            "print_aug.layout=[3x4, 6x2, 12x1]",
            "print_aug.errors=true",
        ],
    ),
    # the recipe's 20 epochs, half the prints 3x4 (the layout the 1-D model loses most on)
    "signal1d_layouts3x4": (
        "signal1d",
        ["print_aug.p=0.5", "print_aug.layout=[3x4, 3x4, 6x2, 12x1]", "print_aug.errors=true"],
    ),
    # 30 epochs, half the prints 3x4
    "signal1d_layouts30": (
        "signal1d",
        [
            "train.epochs=30",
            "print_aug.p=0.5",
            "print_aug.layout=[3x4, 3x4, 6x2, 12x1]",
            "print_aug.errors=true",
        ],
    ),
    "image_layouts": (
        "cpu_small",
        ["print_aug.layout=[3x4, 6x2, 12x1]", "print_aug.errors=true"],
    ),
    # the recipe's 3x4 prints plus 6x2 (every record's print cached in both layouts):
    # 60% of each epoch's records shown as prints, two thirds of them 3x4
    "image_6x2": (
        "cpu_small",
        ["print_aug.p=0.6", "print_aug.layout=[3x4, 3x4, 6x2]"],
    ),
}
# (print-aware, plain) training of the same model, compared paired
PRINT_AWARE = (
    ("features_print_aware", "features"),
    ("image", "image_plain"),
    ("signal1d_print_aware", "signal1d"),
    ("features_layouts", "features_print_aware"),
    ("signal1d_layouts", "signal1d"),
    ("signal1d_layouts", "signal1d_print_aware"),
    ("image_layouts", "image"),
    ("image_6x2", "image"),
    ("image", "image_unfiltered"),
    ("signal1d_layouts10", "signal1d10"),
    ("signal1d_layouts30", "signal1d_layouts"),
    ("signal1d_layouts3x4", "signal1d_layouts"),
)


def picture_dir(out: Path, layout: str, condition: str, drawer: str = "printsim") -> Path:
    """Where the digitised records of one layout and condition are cached."""
    tag = condition.replace(" ", "_").replace("/", "")
    if drawer == "cart":
        return out / f"cart_{layout.replace('@', 'at')}_{tag}"
    return out / tag if layout == "3x4" else out / f"{layout}_{tag}"


def drawn_pictures(drawer: str, index: int, layout: str, signal: np.ndarray):
    """(condition, picture, gain) of one record's print in one layout: every condition of
    :func:`digitize.pictures_of`, from the seeds of benchmarks/digitize.py."""
    rng = np.random.default_rng([index, CART_LAYOUTS.index(layout)])
    for condition, picture, _, _, gain in pictures_of(drawer, layout, signal, rng):
        yield condition, picture, gain


def digitise_job(job: tuple[int, str, np.ndarray, tuple[str, ...], tuple[str, ...], Path, str]):
    """Print one record in each layout (the prints of benchmarks/digitize.py), photograph
    it in each condition, digitise, cache; {picture: why refused}."""
    index, name, signal, layouts, conditions, out, drawer = job
    problems = {}
    for layout in layouts:
        paths = {c: picture_dir(out, layout, c, drawer) / f"{name}.npy" for c in conditions}
        if all(p.is_file() for p in paths.values()):  # digitised by an earlier run
            continue
        for condition, picture, gain in drawn_pictures(drawer, index, layout, signal):
            if condition not in conditions or paths[condition].is_file():
                continue
            try:
                source = f"{name} ({layout} {condition})"
                got = digitize_picture(picture, source, mm_per_mv=gain).signal
            except BadInputError as exc:
                problems[f"{name} {layout} {condition}"] = exc.problem
                got = np.full_like(signal, np.nan)  # refused: the model sees nothing
            paths[condition].parent.mkdir(parents=True, exist_ok=True)
            np.save(paths[condition], got.astype(np.float32))
    return problems


def picture_oof(run_dir: Path, digitised: Path, task: int) -> tuple[list[str], np.ndarray]:
    """Every record's probabilities from its picture, by the fold model that did not
    train on it (:func:`ecgplot.infer.predict_out_of_fold`, as predict.py --oof)."""
    run = load_run(run_dir)
    names = list(fold_of_records(run).index)
    frame = predict_out_of_fold(run, names, [np.load(digitised / f"{n}.npy") for n in names])
    return names, frame.to_numpy()


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
    pictures = []
    for layout, condition in itertools.product(args.layouts, args.conditions):
        tag = picture_dir(Path(), layout, condition, args.drawer).name
        key_tag = f"{layout}_{condition}".replace(" ", "_").replace("/", "")
        saved = args.out / f"{name}@{tag}_oof_probs.csv"  # "@": variant names hold layouts
        if saved.is_file() and saved.stat().st_mtime > (run_dir / "oof_probs.csv").stat().st_mtime:
            probs = read_probs_frame(saved, task).loc[order].to_numpy()  # this run's, earlier
        else:
            names, probs = picture_oof(run_dir, args.out / "digitised" / tag, task)
            probs = probs[[names.index(n) for n in order]]
            write_probs(saved, order, probs, task)
        pictures.append(pd.DataFrame(probs, index=[f"{n}@{tag}" for n in order]))
        res = scored(probs, tag)
        d, dlo, dhi = paired_difference(task, y, probs, out["MAT"], args.bootstrap)
        lo, hi = res["ci95"][key]
        ratio = res[key] / base[key]
        lines.append(
            f"task {task} {variant:12s} {layout:4s} {condition:12s} {key} {res[key]:.3f} "
            f"({lo:.3f}-{hi:.3f})  ratio {ratio:.3f}  minus MAT {d:+.3f} ({dlo:+.3f}..{dhi:+.3f})"
        )
        figures[f"task{task}_{variant}_{key_tag}_{key}"] = round(res[key], 4)
        figures[f"task{task}_{variant}_{key_tag}_ratio"] = round(ratio, 3)
        out[(layout, condition)] = probs
    # the run's out-of-fold probabilities of the pictures: ensemble.py --fit-pictures
    table = pd.concat(pictures)
    write_probs(run_dir / OOF_PICTURE_PROBS, list(table.index), table.to_numpy(), task)
    out["y"] = y
    out["order"] = order
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
        for condition in [c for c in probs if c == "MAT" or isinstance(c, tuple)]:
            d, lo, hi = paired_difference(
                task, probs["y"], probs[condition], plain[condition], n_boot
            )
            what = condition if isinstance(condition, str) else " ".join(condition)
            lines.append(
                f"task {task} {variant} minus {plain_variant}, {what}: "
                f"{d:+.3f} ({lo:+.3f}..{hi:+.3f})"
            )
            tag = what.replace(" ", "_").replace("/", "")
            figures[f"task{task}_{variant}_gain_{tag}"] = round(d, 4)
    print("\n".join(lines), flush=True)
    return lines


def fusion_on_pictures(
    task: int, measured: dict, fuse: list[str], truth: dict, n_boot: int, figures: dict
) -> list[str]:
    """The fusion of ``fuse`` on each picture set: its AUC against its best member's
    there (paired), and its F1 at thresholds chosen on the MAT records' out-of-fold rows
    only (the mean-logit fusion as it was) and on those and every picture set's rows
    together (picture-aware: ``mean``, and ``weights`` fitted on both)."""
    first = measured[fuse[0]]
    order, y = first["order"], first["y"]
    sets = [k for k in first if isinstance(k, tuple)]
    cols = prob_columns(task)

    def member(variant: str, pictures: bool) -> Member:
        probs = measured[variant]
        index = pd.Index(order, name="name")
        table = None
        if pictures:
            table = pd.concat(
                [
                    pd.DataFrame(
                        probs[s], index=[f"{n}@{'_'.join(s)}" for n in order], columns=cols
                    )
                    for s in sets
                ]
            )
        return Member(
            variant, pd.DataFrame(probs["MAT"], index=index, columns=cols), None, None, table
        )

    mat_fit = ensemble([member(v, False) for v in fuse], truth, "mean")
    fits = {m: ensemble([member(v, True) for v in fuse], truth, m) for m in ("mean", "weights")}
    key = HEADLINE[task]
    mean, weights = fits["mean"], fits["weights"]
    at = [mat_fit.names.index(n) for n in order]  # ensemble() sorts the MAT rows by name

    def mat_f1(fit) -> float:
        return decision_f1(task, y, fit.oof[at], fit.thresholds)

    lines = [
        f"task {task} fusion of {' + '.join(fuse)}: weights fitted on MAT + pictures "
        f"{np.round(weights.fusion.weights, 2).tolist()}",
        f"task {task} fusion on MAT: {key} {mat_fit.oof_metrics[key]:.3f}, F1 at MAT "
        f"thresholds {mat_f1(mat_fit):.3f}, at picture-aware thresholds {mat_f1(mean):.3f} "
        f"(weights: {mat_f1(weights):.3f}, {key} {weights.oof_metrics[key]:.3f})",
    ]
    figures[f"task{task}_fusion_mat_{key}"] = round(mat_fit.oof_metrics[key], 4)
    figures[f"task{task}_fusion_mat_f1_mat_thresholds"] = round(mat_f1(mat_fit), 4)
    figures[f"task{task}_fusion_mat_f1_picture_aware"] = round(mat_f1(mean), 4)
    row_of = {name: i for i, name in enumerate(mean.picture_names)}
    for s in sets:
        rows = [row_of[f"{n}@{'_'.join(s)}"] for n in order]
        fused = {m: fits[m].picture_oof[rows] for m in fits}
        best = max(fuse, key=lambda v: headline(task, y, measured[v][s]))
        d, lo, hi = paired_difference(task, y, fused["mean"], measured[best][s], n_boot)
        dw, lw, hw = paired_difference(task, y, fused["weights"], measured[best][s], n_boot)
        f1_mat = decision_f1(task, y, fused["mean"], mat_fit.thresholds)
        f1_pic = decision_f1(task, y, fused["mean"], fits["mean"].thresholds)
        f1_w = decision_f1(task, y, fused["weights"], fits["weights"].thresholds)
        tag = "_".join(s).replace(" ", "_").replace("/", "")
        score_mean, score_w = headline(task, y, fused["mean"]), headline(task, y, fused["weights"])
        lines.append(
            f"task {task} fusion {' '.join(s):18s} mean {key} {score_mean:.3f} minus best "
            f"member ({best}) {d:+.3f} ({lo:+.3f}..{hi:+.3f}); weights {score_w:.3f} minus "
            f"best {dw:+.3f} ({lw:+.3f}..{hw:+.3f}); F1 at MAT thresholds {f1_mat:.3f}, "
            f"picture-aware mean {f1_pic:.3f}, weights {f1_w:.3f}"
        )
        figures[f"task{task}_fusion_{tag}_{key}"] = round(headline(task, y, fused["mean"]), 4)
        figures[f"task{task}_fusion_{tag}_minus_best"] = round(d, 4)
        figures[f"task{task}_fusion_{tag}_f1_mat_thresholds"] = round(f1_mat, 4)
        figures[f"task{task}_fusion_{tag}_f1_picture_aware"] = round(f1_pic, 4)
    print("\n".join(lines), flush=True)
    return lines


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data")
    p.add_argument("--tasks", type=int, nargs="+", default=[1, 2])
    p.add_argument("--conditions", nargs="+", default=["phone photo", "clean"])
    p.add_argument("--layouts", nargs="+", default=["3x4"], choices=CART_LAYOUTS)
    p.add_argument(
        "--drawer",
        choices=["printsim", "cart"],
        default="printsim",
        help="who draws the prints: the test drawer, or the cart drawer's hard cases",
    )
    p.add_argument("--digitise-only", action="store_true", help="fill the picture cache, stop")
    p.add_argument("--folds", type=int, default=5)
    p.add_argument("--bootstrap", type=int, default=1000)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument(
        "--models",
        nargs="+",
        default=["features", "features_print_aware", "image"],
        choices=list(VARIANTS),
    )
    p.add_argument(
        "--fuse", nargs="*", default=[], choices=list(VARIANTS), help="models to fuse (2+)"
    )
    p.add_argument("--cache", type=Path, default=ROOT / "output" / "cache")
    p.add_argument("--out", type=Path, default=ROOT / "output" / "benchmarks" / "picture_accuracy")
    args = p.parse_args()
    args.out = args.out.resolve()  # run configs hold absolute paths: reused from any cwd
    drawn = (CART_LAYOUTS, CART_CONDITIONS) if args.drawer == "cart" else (LAYOUTS, CONDITIONS)
    for given, known in zip((args.layouts, args.conditions), drawn):
        if unknown := sorted(set(given) - set(known)):
            p.error(f"{args.drawer} prints have no {', '.join(unknown)} ({', '.join(known)})")
    setup_logging(args.out / "picture_accuracy.log")
    start = time.perf_counter()
    sources = list_source(args.shared)
    cache = args.out / "digitised"  # one .npy per record and condition

    def jobs():
        for i, src in enumerate(sources):
            rec = src.load()
            layouts, conditions = tuple(args.layouts), tuple(args.conditions)
            yield i, rec.name, rec.signal, layouts, conditions, cache, args.drawer

    refused: dict[str, str] = {}
    with Pool(args.workers) as pool:
        for problems in tqdm(pool.imap(digitise_job, jobs(), chunksize=4), total=len(sources)):
            refused.update(problems)
    figures: dict = {"records": len(sources), "refused": len(refused)}
    if args.digitise_only:
        print(json.dumps(figures | {"minutes": round((time.perf_counter() - start) / 60, 1)}))
        return
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
            print("\n".join(lines[-1 - len(args.layouts) * len(args.conditions) :]), flush=True)
        lines += print_aware_gains(task, measured, args.bootstrap, figures)
        if len(args.fuse) >= 2:
            lines += fusion_on_pictures(task, measured, args.fuse, truth, args.bootstrap, figures)
    figures["minutes"] = round((time.perf_counter() - start) / 60, 1)
    print(f"\nout-of-fold over {args.folds} folds, {args.drawer} prints, bootstrap 95% intervals:")
    print("\n".join(lines))
    if refused:
        print(f"refused pictures (count as seeing nothing): {len(refused)}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()

"""Digitiser speed against a baseline commit, in one run on the same pictures, and
whether the two read them the same.

Draws the first --records shared records in each layout with the independent drawers of
benchmarks/digitize.py (printsim: colour scans and phone photos; cart: tight rows as
scans and close-ups), then reads every picture with the digitiser of this working tree
and with that of --baseline (a commit, unpacked with git archive), each in its own
process on one thread, in chunks taken in turn so both see the same load. Prints
seconds a picture per drawer, layout and condition, the ratio baseline / this tree, and
how many readings differ (largest difference, mV). Last line: JSON.

    python benchmarks/digitize_speed.py [--baseline HEAD] [--records 10]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
PRINTSIM_CONDITIONS = ("colour scan", "phone photo")


def draw_pictures(shared: Path, records: int, out: Path) -> pd.DataFrame:
    """Every picture of the first ``records`` records as ``out/<id>.npy``; their table."""
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from digitize import CART_LAYOUTS, LAYOUTS, pictures_of
    from ecgplot.physionet import list_source

    rows = []
    for index, src in enumerate(list_source(shared)[:records]):
        rec = src.load()
        for drawer, layouts in (("printsim", LAYOUTS), ("cart", CART_LAYOUTS)):
            for layout in layouts:
                rng = np.random.default_rng([index, CART_LAYOUTS.index(layout)])
                for condition, picture, _, _, gain in pictures_of(drawer, layout, rec.signal, rng):
                    if drawer == "printsim" and condition not in PRINTSIM_CONDITIONS:
                        continue
                    key = f"{len(rows):04d}"
                    np.save(out / f"{key}.npy", picture)
                    rows.append(
                        dict(
                            key=key,
                            name=rec.name,
                            drawer=drawer,
                            layout=layout,
                            condition=condition,
                            gain=gain,
                        )
                    )
    return pd.DataFrame(rows)


def read_pictures(tree: Path, pictures: Path, table: pd.DataFrame, out: Path) -> None:
    """In this process: read each picture of ``table`` with the digitiser of ``tree``;
    the readings (NaN-filled where refused) and seconds to ``out`` (npz)."""
    sys.path.insert(0, str(tree))
    import cv2

    import ecgplot
    from ecgplot.aiwin import BadInputError
    from ecgplot.digitize import digitize_picture

    assert Path(ecgplot.__file__).resolve().is_relative_to(tree.resolve()), ecgplot.__file__
    cv2.setNumThreads(1)
    signals, seconds = [], []
    for row in table.itertuples():
        picture = np.load(pictures / f"{row.key}.npy")
        gain = None if pd.isna(row.gain) else float(row.gain)
        start = time.perf_counter()
        try:
            signal = digitize_picture(picture, row.key, mm_per_mv=gain).signal
        except BadInputError:
            signal = np.full((12, 5000), np.inf, np.float32)
        seconds.append(time.perf_counter() - start)
        signals.append(signal)
    np.savez(out, signals=np.stack(signals), seconds=np.array(seconds))


def run_reader(tree: Path, pictures: Path, table: pd.DataFrame, tmp: Path) -> tuple:
    """(signals, seconds) of ``table``'s pictures read by ``tree`` in a fresh process."""
    part = tmp / "part.csv"
    table.to_csv(part, index=False)
    out = tmp / "read.npz"
    env = dict(os.environ, OMP_NUM_THREADS="1", FLAGS_use_mkldnn="0")
    command = [sys.executable, __file__, "--read", str(tree), str(pictures), str(part), str(out)]
    subprocess.run(command, check=True, env=env)
    got = np.load(out)
    return got["signals"], got["seconds"]


def differences(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per picture, the largest difference (mV) between two readings; 0 where both
    refused, inf where one did, or where the printed samples differ."""
    out = np.zeros(len(a))
    for i, (x, y) in enumerate(zip(a, b)):
        if np.isinf(x).all() or np.isinf(y).all():
            out[i] = 0.0 if np.isinf(x).all() and np.isinf(y).all() else np.inf
        elif not np.array_equal(np.isfinite(x), np.isfinite(y)):
            out[i] = np.inf
        else:
            shown = np.isfinite(x)
            out[i] = float(np.abs(x[shown] - y[shown]).max()) if shown.any() else 0.0
    return out


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--read":
        tree, pictures, part, out = map(Path, sys.argv[2:6])
        read_pictures(tree, pictures, pd.read_csv(part, dtype={"key": str}), out)
        return
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data")
    p.add_argument("--baseline", default="HEAD", help="commit to compare with (default HEAD)")
    p.add_argument("--records", type=int, default=10)
    p.add_argument("--chunk", type=int, default=12, help="pictures read by one in turn")
    p.add_argument("--out", type=Path, default=ROOT / "output" / "benchmarks" / "digitize_speed")
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        base = tmp / "baseline"
        base.mkdir()
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", args.baseline],
            check=True,
            capture_output=True,
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(base)], input=archive, check=True)
        pictures = tmp / "pictures"
        pictures.mkdir()
        table = draw_pictures(args.shared, args.records, pictures)
        readers = {"baseline": base, "this tree": ROOT}
        signals = {k: [] for k in readers}
        seconds = {k: [] for k in readers}
        for n, start in enumerate(range(0, len(table), args.chunk)):
            chunk = table.iloc[start : start + args.chunk]
            order = list(readers) if n % 2 == 0 else list(readers)[::-1]
            for k in order:
                got, took = run_reader(readers[k], pictures, chunk, tmp)
                signals[k].append(got)
                seconds[k].append(took)
            print(f"{start + len(chunk)}/{len(table)} pictures", flush=True)
    table["s_baseline"] = np.concatenate(seconds["baseline"])
    table["s_this_tree"] = np.concatenate(seconds["this tree"])
    table["max_diff_mv"] = differences(
        np.concatenate(signals["baseline"]), np.concatenate(signals["this tree"])
    )
    args.out.mkdir(parents=True, exist_ok=True)
    table.to_csv(args.out / "seconds_per_picture.csv", index=False)
    groups = table.groupby(["drawer", "layout", "condition"])
    summary = groups[["s_baseline", "s_this_tree"]].mean()
    summary["ratio"] = summary.s_baseline / summary.s_this_tree
    summary["differ"] = groups.max_diff_mv.apply(lambda d: int((d > 0).sum()))
    summary["pictures"] = groups.size()
    print(summary.round(3).to_string())
    figures = {
        "baseline": args.baseline,
        "pictures": len(table),
        "s_per_picture_baseline": round(float(table.s_baseline.mean()), 3),
        "s_per_picture_this_tree": round(float(table.s_this_tree.mean()), 3),
        "ratio": round(float(table.s_baseline.sum() / table.s_this_tree.sum()), 3),
        "readings_differ": int((table.max_diff_mv > 0).sum()),
        "largest_difference_mv": float(table.max_diff_mv.max()),
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()

"""Digitiser accuracy on pictures of the 627 shared records drawn by an independent
program (drawers/printsim.py, matplotlib, no code shared with ecgplot.render).

Every record is printed in each layout (3x4 + lead-II rhythm strip, 6x2, 12x1 at
5 mm/mV) with settings drawn per record (resolution 100-250 dpi, grid colour, 1 mm grid
or not, trace colour and width, calibration pulses, separators), then turned into each
condition (clean, colour scan, black-and-white scan, phone photo: settings the digitiser
was never tuned on), read back by ecgplot.digitize and scored: SNR per lead over the
printed samples (each lead's mean removed, best shift within +-0.1 s; a picture the
digitiser refuses counts 0 dB on every printed lead). Prints median and quartiles per
layout and condition, writes the per-lead table and a contact sheet PNG of true and
recovered traces. Last line: JSON.

    python benchmarks/digitize.py [--limit N] [--layouts 3x4,6x2,12x1] [--workers 2]
        [--drawer printsim|ecg_plot]

``--drawer ecg_plot`` draws the prints with ecg_plot instead (drawers/otherdraw.py): panels
printed apart, a narrower rhythm strip, pulses centred on the baseline. ``--drawer cart``
(drawers/cart.py) prints the hard cases: rows as close as carts print them (3x4 + II and
6x2 at 26-34 mm, 12x1 at 13-16 mm, at 5 and at 10 mm/mV: layout ``12x1@10``), so tall
QRS complexes cross into the next row, as flatbed scans and as close-up phone photos
(sheet filling the frame, perspective, no paper edge in view).
"""

from __future__ import annotations

import argparse
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

from drawers import cart, otherdraw  # noqa: E402
from drawers.printsim import CONDITIONS, GRIDS, PrintStyle, draw_print, photograph  # noqa: E402
from ecgplot.aiwin import LEADS, BadInputError  # noqa: E402
from ecgplot.digitize import digitize_picture, trace  # noqa: E402
from ecgplot.digitize.quality import record_snr  # noqa: E402
from ecgplot.physionet import list_source  # noqa: E402

SHARED = ROOT.parent / "shared" / "data"
LAYOUTS = ("3x4", "6x2", "12x1")
CART_LAYOUTS = ("3x4", "6x2", "12x1", "12x1@10")
CART_CONDITIONS = ("scan", "close-up")


def benchmark_style(layout: str, rng: np.random.Generator) -> PrintStyle:
    """Print settings drawn for one record (held out: tests use fixed others)."""
    return PrintStyle(
        layout=layout,
        rhythm=("II",) if layout == "3x4" else (),
        grid=str(rng.choice(sorted(GRIDS))),
        minor_grid=bool(rng.random() < 0.8),
        dpi=float(rng.uniform(100, 250)),
        mm_per_mv=5.0 if layout == "12x1" else 10.0,
        trace_colour=str(rng.choice(["#111111", "#000000", "#1a237e"])),
        trace_width_pt=float(rng.uniform(0.5, 1.0)),
        # carts may leave the pulse out at the standard 10 mm/mV, never at another gain
        calibration=layout == "12x1" or bool(rng.random() < 0.85),
        separators=bool(rng.random() < 0.85),
        labels=bool(rng.random() < 0.9),
    )


def drawn_page(drawer: str, layout: str, signal: np.ndarray, rng: np.random.Generator):
    """(picture, printed samples, dpi) of one record drawn by ``drawer``: the test drawer
    (printsim) with settings drawn per record, or ecg_plot (a program outside the
    project) at 100-250 dpi, its pink grid or its black-and-white style."""
    if drawer == "ecg_plot":
        dpi = float(rng.uniform(100, 250))
        drawn = otherdraw.draw(signal, layout, dpi, bw=bool(rng.random() < 0.3))
        return drawn.image, drawn.printed, dpi
    page = draw_print(signal, benchmark_style(layout, rng))
    return page.image, page.printed, page.style.dpi


def pictures_of(drawer: str, layout: str, signal: np.ndarray, rng: np.random.Generator):
    """(condition, picture, printed samples, dpi, gain) of one record in one layout."""
    if drawer == "cart":
        name, _, gain = layout.partition("@")
        pitch = float(rng.uniform(13, 16) if name == "12x1" else rng.uniform(26, 34))
        style = cart.CartStyle(
            layout=name,
            row_pitch_mm=pitch,
            mm_per_mv=float(gain or (5.0 if name == "12x1" else 10.0)),
            dpi=float(rng.uniform(120, 250)),
            pen_mm=float(rng.uniform(0.2, 0.4)),
        )
        page = cart.draw_cart(signal, style)
        yield "scan", cart.scanned(page.image, rng), page.printed, style.dpi, style.mm_per_mv
        yield "close-up", cart.close_up(page.image, rng), page.printed, style.dpi, style.mm_per_mv
        return
    image, printed, dpi = drawn_page(drawer, layout, signal, rng)
    for condition in CONDITIONS:
        yield condition, photograph(image, condition, rng), printed, dpi, None


def score_record(job: tuple[int, str, np.ndarray, tuple[str, ...], str]) -> list[dict]:
    """SNR rows (one per printed lead) of one record in every layout and condition."""
    index, name, signal, layouts, drawer = job
    rows = []
    for layout in layouts:
        # seeded by the layout's place in the full list: a subset draws the same pictures
        rng = np.random.default_rng([index, CART_LAYOUTS.index(layout)])
        for condition, picture, printed, dpi, gain in pictures_of(drawer, layout, signal, rng):
            start = time.perf_counter()
            try:
                got = digitize_picture(picture, f"{name}_{layout}_{condition}", mm_per_mv=gain)
                snr, error = record_snr(signal, got.signal, printed), ""
                found = got.layout
            except BadInputError as exc:
                snr, error, found = np.zeros(len(LEADS)), exc.problem, ""
            seconds = time.perf_counter() - start
            for lead, value in zip(LEADS, snr):
                rows.append(
                    dict(
                        name=name,
                        layout=layout,
                        condition=condition,
                        lead=lead,
                        snr_db=float(value),
                        found=found,
                        error=error,
                        seconds=seconds,
                        dpi=dpi,
                    )
                )
    return rows


def contact_sheet(jobs, path: Path, drawer: str) -> None:
    """Lead II of a few records in each condition (3x4 print): true black, recovered red."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(jobs), len(CONDITIONS), figsize=(16, 2.2 * len(jobs)))
    t = np.arange(5000) / 500
    for r, (index, name, signal, *_) in enumerate(jobs):
        rng = np.random.default_rng([index, 0])
        image, printed, _ = drawn_page(drawer, "3x4", signal, rng)
        for c, condition in enumerate(CONDITIONS):
            ax = axes[r, c]
            picture = photograph(image, condition, rng)
            ax.plot(t, signal[1] - signal[1].mean(), "k", lw=0.6)
            try:
                got = digitize_picture(picture, name).signal[1]
                snr = record_snr(signal[1:2], got[None], printed[1:2])[0]
                ax.plot(t, got - np.nanmean(got), "r", lw=0.5)
                ax.set_title(f"{name} {condition}: lead II {snr:.1f} dB", fontsize=8)
            except BadInputError as exc:
                ax.set_title(f"{name} {condition}: {exc.problem[:40]}", fontsize=8)
            ax.set_xlim(0, 10)
            ax.tick_params(labelsize=6)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--data", type=Path, default=SHARED)
    p.add_argument("--limit", type=int, help="only the first N records")
    p.add_argument("--layouts", help="default: 3x4,6x2,12x1 (cart: also 12x1@10)")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument(
        "--drawer",
        choices=["printsim", "ecg_plot", "cart"],
        default="printsim",
        help="who draws the prints: the test drawer, or ecg_plot (a program outside the project)",
    )
    p.add_argument(
        "--rows",
        choices=["learned", "traced"],
        default="learned",
        help="tight rows' complexes read with the learned row reader's help, or traced only",
    )
    p.add_argument("--out", type=Path, default=ROOT / "output" / "benchmarks" / "digitize")
    args = p.parse_args()
    trace.LEARNED_ROWS = args.rows == "learned"  # the workers are forked with it
    default = CART_LAYOUTS if args.drawer == "cart" else LAYOUTS
    layouts = tuple(args.layouts.split(",")) if args.layouts else default
    sources = list_source(args.data)[: args.limit]
    start = time.perf_counter()

    def jobs():
        for i, src in enumerate(sources):
            rec = src.load()
            yield i, rec.name, rec.signal, layouts, args.drawer

    rows: list[dict] = []
    with Pool(args.workers) as pool:
        for part in tqdm(pool.imap(score_record, jobs(), chunksize=2), total=len(sources)):
            rows.extend(part)
    table = pd.DataFrame(rows)
    args.out.mkdir(parents=True, exist_ok=True)
    table.to_csv(args.out / "snr_per_lead.csv", index=False)
    printed = table[np.isfinite(table.snr_db)]
    summary = printed.groupby(["layout", "condition"]).snr_db.describe(
        percentiles=[0.25, 0.5, 0.75]
    )
    pictures = table.drop_duplicates(["name", "layout", "condition"])
    refused = pictures.assign(refused=pictures.error != "").groupby(["layout", "condition"]).refused
    summary["refused"] = refused.mean()
    summary["s_per_picture"] = pictures.groupby(["layout", "condition"]).seconds.mean()
    per_lead = printed.pivot_table("snr_db", ["layout", "condition"], "lead", "median")
    summary["worst_lead"] = per_lead.idxmin(axis=1)
    summary["worst_lead_db"] = per_lead.min(axis=1)
    columns = ["25%", "50%", "75%", "worst_lead", "worst_lead_db", "refused", "s_per_picture"]
    print(per_lead[list(LEADS)].round(1).to_string())
    print(summary[columns].round(2).to_string())
    per_lead.to_csv(args.out / "median_snr_per_lead.csv")
    if args.drawer != "cart":
        contact_sheet(list(jobs())[:4], args.out / "contact_sheet.png", args.drawer)
    figures = {
        f"{layout} {condition} median_snr_db": round(float(row["50%"]), 2)
        for (layout, condition), row in summary.iterrows()
    }
    figures |= {
        f"{layout} {condition} worst_lead_db": round(float(row["worst_lead_db"]), 2)
        for (layout, condition), row in summary.iterrows()
    }
    figures["records"] = len(sources)
    figures["minutes"] = round((time.perf_counter() - start) / 60, 1)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()

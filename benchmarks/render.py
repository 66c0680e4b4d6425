"""Renderer speed: fast rasterisers vs the matplotlib reference, and process.py wall time.

Imports the real records of ../shared/data into a temporary AIWIN folder, then, in one
run on the same records: ms per record of the matplotlib reference and of each fast
rasteriser drawing the same prepared (filtered) signals in the same layout, and their
ratios (also with the shared filter time added to both); the default fast path end to
end over all records; the grey grid with and without calibration pulses and lead
labels; and the wall time of ``process.py`` over all records
with and without STFT images. Each per-record time is the median of three passes. Last line: JSON.

    python benchmarks/render.py [--shared ../shared/data] [--workers 2]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ecgplot.aiwin import read_record  # noqa: E402
from ecgplot.physionet import import_physionet  # noqa: E402
from ecgplot.plots import save_figure  # noqa: E402
from ecgplot.render import (  # noqa: E402
    RASTERIZERS,
    RenderConfig,
    draw_plot,
    draw_plot_reference,
    prepare_signal,
    render_plot,
)


def ms_per_record(fn, signals, cfg, passes: int = 3) -> float:
    """Median over ``passes`` passes of the mean time per record of ``fn(signal, cfg)``."""
    fn(signals[0], cfg)  # warm-up (caches, fonts)
    times = []
    for _ in range(passes):
        start = time.perf_counter()
        for sig in signals:
            fn(sig, cfg)
        times.append((time.perf_counter() - start) * 1000 / len(signals))
    return statistics.median(times)


def process_wall(data: Path, out: Path, workers: int, extra: list[str]) -> float:
    cmd = [
        sys.executable,
        str(ROOT / "process.py"),
        "--data",
        str(data),
        "--out",
        str(out),
        "--workers",
        str(workers),
        *extra,
    ]
    start = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True)
    return time.perf_counter() - start


def save_comparison(path: Path, signal, cfg: RenderConfig) -> dict[str, float]:
    """PNG of one record's first 2.5 s of leads I-III (a quarter of the image, enlarged)
    as drawn by matplotlib and by each fast rasteriser; returns each rasteriser's
    agreement with matplotlib over the whole image."""
    import matplotlib.pyplot as plt

    prepared = prepare_signal(signal, cfg)
    images = {"matplotlib": draw_plot_reference(prepared, cfg)}
    images.update({r: draw_plot(prepared, replace(cfg, rasterizer=r)) for r in RASTERIZERS})
    ref = images["matplotlib"].astype(int)
    scores = {}
    fig, axes = plt.subplots(1, len(images), figsize=(5 * len(images), 5.6))
    for ax, (name, img) in zip(axes, images.items()):
        title = name
        if name != "matplotlib":
            ink, ink_ref = img < 128, ref < 128
            diff = float(np.abs(img.astype(int) - ref).mean())
            iou = float((ink & ink_ref).sum() / (ink | ink_ref).sum())
            scores[f"{name}_mean_abs_diff"], scores[f"{name}_ink_iou"] = diff, iou
            title += f": |diff| {diff:.2f}, ink IoU {iou:.3f}"
        crop = img[: cfg.size // 4, : cfg.size // 4]
        ax.imshow(crop, cmap="gray", vmin=0, vmax=255, interpolation="nearest")
        ax.set_title(title)
        ax.axis("off")
    path.parent.mkdir(parents=True, exist_ok=True)
    save_figure(fig, path)
    return scores


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--n-reference", type=int, default=40, help="records timed on both renderers")
    p.add_argument(
        "--png",
        type=Path,
        default=ROOT / "output" / "benchmark_render" / "comparison.png",
        help="side-by-side crops of one record drawn by each renderer",
    )
    args = p.parse_args()
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        import_physionet(args.shared, data, task=2)
        signals = [read_record(m).signal for m in sorted((data / "train").glob("*.mat"))]
        figures["records"] = len(signals)
        subset = signals[:: max(1, len(signals) // args.n_reference)][: args.n_reference]
        cfg = RenderConfig()
        prep = ms_per_record(prepare_signal, subset, cfg)
        figures["filter_ms"] = round(prep, 2)
        print(f"signal preparation (band-pass, shared by both renderers): {prep:.2f} ms/rec")
        for layout in ("rows12", "grid3x4"):
            cfg = RenderConfig(layout=layout, grid=True)
            prepared = [prepare_signal(sig, cfg) for sig in subset]
            ref = ms_per_record(draw_plot_reference, prepared, cfg)
            figures[f"{layout}_matplotlib_ms"] = round(ref, 1)
            print(f"{layout:8s} draw: matplotlib {ref:6.1f} ms/rec ({len(subset)} records)")
            for rasterizer in RASTERIZERS:
                fast = ms_per_record(draw_plot, prepared, replace(cfg, rasterizer=rasterizer))
                key = f"{layout}_{rasterizer}"
                figures[f"{key}_ms"] = round(fast, 3)
                figures[f"{key}_speedup"] = round(ref / fast, 1)
                figures[f"{key}_speedup_with_filter"] = round((ref + prep) / (fast + prep), 1)
                print(
                    f"{layout:8s} draw: {rasterizer:6s} {fast:6.3f} ms/rec  "
                    f"ratio {ref / fast:5.1f}x  (with filter {(ref + prep) / (fast + prep):4.1f}x)"
                )
        scores = save_comparison(args.png, subset[0], RenderConfig(grid=True))
        print(f"renderer comparison (first record, rows12): {args.png}")
        figures.update({k: round(v, 3) for k, v in scores.items()})
        figures["fast_all_records_ms"] = round(
            ms_per_record(render_plot, signals, RenderConfig()), 2
        )
        fast_all = figures["fast_all_records_ms"]
        print(f"fast path (filter + draw) over all {len(signals)} records: {fast_all} ms/rec")
        gray = RenderConfig(grid=True, mm_per_mv=10.0)
        marked = replace(gray, calibration=True, lead_labels=True)
        for name, cfg in (("grey_grid", gray), ("grid_marks", marked)):
            figures[f"{name}_ms"] = round(ms_per_record(render_plot, subset, cfg), 2)
        print(
            f"grid styles, 640 px: grey grid {figures['grey_grid_ms']} ms/rec, with "
            f"calibration pulses and lead labels {figures['grid_marks_ms']} ms/rec"
        )
        for name, extra in (("process_s", []), ("process_stft_s", ["--stft"])):
            wall = process_wall(data, Path(tmp) / name, args.workers, extra)
            figures[name] = round(wall, 2)
            print(
                f"process.py {' '.join(extra) or '(plot only)':12s} {len(signals)} records, "
                f"{args.workers} workers: {wall:.2f} s wall"
            )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()

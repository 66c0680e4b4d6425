"""Frozen-trunk maps per second: the eager model against its graph in Paddle Inference.

The CPU recipe's trunk (ResNet50 cut after layer3, the recipe's 384 px renderings of real
shared records) run both ways in the same process, on the same images, in the batches
training uses: maps/s, their ratio, GFLOP per map (2 x the convolutions' multiply-adds)
and GFLOP/s against the cores' fp32 peak (cores x clock x 32 FLOP a cycle: two 256-bit
FMA pipes; the clock from --ghz, else BogoMIPS / 2). Also checks that both give the same
maps. Last line: JSON (``speedup``: fast over eager).

    python benchmarks/trunk_speed.py [--config configs/cpu_small_task1.yaml] [--images 32]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ecgplot.experiment import load_experiment  # noqa: E402
from ecgplot.inputs import plot_tensor  # noqa: E402
from ecgplot.model import build_model  # noqa: E402
from ecgplot.physionet import list_source  # noqa: E402
from ecgplot.render import render_plot  # noqa: E402
from ecgplot.trainer import configure_cpu  # noqa: E402
from ecgplot.trunk_graph import trunk_runner  # noqa: E402

FLOP_PER_CYCLE = 32  # fp32, AVX-512 on two 256-bit FMA pipes (AMD Zen 4)


def conv_gflop(model, size: int) -> float:
    """2 x multiply-adds of the trunk's convolutions for one size x size image."""
    import paddle

    macs = []

    def count(layer, _inputs, output):
        kh, kw = layer._kernel_size
        macs.append(output.size * layer._in_channels // layer._groups * kh * kw)

    hooks = [
        layer.register_forward_post_hook(count)
        for layer in model.backbone.sublayers()
        if isinstance(layer, paddle.nn.Conv2D)
    ]
    with paddle.no_grad():
        model.trunk(paddle.zeros([1, 3, size, size]))
    for hook in hooks:
        hook.remove()
    return 2 * sum(macs) / 1e9


def peak_gflops(ghz: float | None) -> tuple[float, float]:
    """(clock GHz, fp32 peak GFLOP/s) of the cores this process may use."""
    if ghz is None:
        bogo = re.findall(r"bogomips\s*:\s*([\d.]+)", Path("/proc/cpuinfo").read_text(), re.I)
        ghz = float(bogo[0]) / 2000 if bogo else 2.6
    return ghz, len(os.sched_getaffinity(0)) * ghz * FLOP_PER_CYCLE


def rate(run, images: np.ndarray, batch: int, repeats: int) -> tuple[float, np.ndarray]:
    """Best maps/s over ``repeats`` passes (after one warm-up batch), and the maps."""
    run(images[:batch])
    best, maps = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        maps = np.concatenate([run(images[i : i + batch]) for i in range(0, len(images), batch)])
        best = min(best, time.perf_counter() - start)
    return len(images) / best, maps


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--config", type=Path, default=ROOT / "configs" / "cpu_small_task1.yaml")
    p.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data")
    p.add_argument("--images", type=int, default=32, help="renderings to map (2 a record)")
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--repeats", type=int, default=2)
    p.add_argument("--ghz", type=float, help="core clock for the peak (default BogoMIPS/2)")
    args = p.parse_args()
    cfg = load_experiment(args.config, ["model.pretrained=null"])  # speed: weights irrelevant
    configure_cpu(cfg.train.cpu_threads, cfg.train.onednn)
    model = build_model(cfg.model, cfg.num_classes, views=len(cfg.renders))
    model.eval()
    records = [r.load() for r in list_source(args.shared)[: -(-args.images // len(cfg.renders))]]
    plots = [render_plot(r.signal, view) for r in records for view in cfg.renders]
    images = np.stack([plot_tensor(x) for x in plots[: args.images]])
    size = cfg.render.size
    gflop = conv_gflop(model, size)
    ghz, peak = peak_gflops(args.ghz)
    figures: dict[str, float] = {"images": len(images), "size": size, "gflop_per_map": gflop}
    maps = {}
    for backend in ("eager", "inference"):
        run = trunk_runner(model, backend, cfg.train.cpu_threads)
        figures[f"{backend}_maps_per_s"], maps[backend] = rate(
            run, images, args.batch, args.repeats
        )
        figures[f"{backend}_gflops"] = figures[f"{backend}_maps_per_s"] * gflop
        figures[f"{backend}_share_of_peak"] = figures[f"{backend}_gflops"] / peak
    figures["speedup"] = figures["inference_maps_per_s"] / figures["eager_maps_per_s"]
    scale = np.abs(maps["eager"]).max()
    figures["max_abs_diff_over_max"] = float(
        np.abs(maps["inference"] - maps["eager"]).max() / scale
    )
    figures["peak_gflops"], figures["ghz"] = peak, ghz
    print(
        f"trunk of {args.config.name}: {gflop:.1f} GFLOP a {size} px map; fp32 peak "
        f"{peak:.0f} GFLOP/s ({len(os.sched_getaffinity(0))} cores x {ghz:.2f} GHz x "
        f"{FLOP_PER_CYCLE})"
    )
    for backend in ("eager", "inference"):
        print(
            f"  {backend:9s} {figures[f'{backend}_maps_per_s']:6.2f} maps/s "
            f"{figures[f'{backend}_gflops']:6.1f} GFLOP/s "
            f"({100 * figures[f'{backend}_share_of_peak']:.0f}% of peak)"
        )
    print(
        f"  speedup {figures['speedup']:.2f}x; largest difference "
        f"{figures['max_abs_diff_over_max']:.1e} of the largest map value"
    )
    print(json.dumps({k: round(v, 6) if isinstance(v, float) else v for k, v in figures.items()}))


if __name__ == "__main__":
    main()

"""Training rows for the learned row reader (:mod:`.row_net`): prints of real records
drawn as the digitiser's trace ink would show them (a binary mask at the picture's
resolution), rows as tight as carts print them, complexes crossing the next rows, with
what else a mask holds (calibration pulses, separators, lead labels, specks, columns a
grid line took out). Each row is cut out and resampled as the reader does it, with the
bin its own trace is in at every column."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ..aiwin import FS, LEADS
from ..prints import SECONDS, panels
from .page import MM_PER_S
from .row_net import row_input
from .trace import BOUNDARY_MM  # columns this close to a lead change are not scored

SHIFT = 4  # fixed-point bits of the polyline coordinates
LABEL_PX = 22.0  # height of a Hershey simplex capital at font scale 1


@dataclass(frozen=True)
class SynthRow:
    """One row as the reader sees it: ``ink`` (HEIGHT, columns) uint8, the ``target``
    bin of its trace per column, and which columns are scored (``valid``)."""

    ink: np.ndarray
    target: np.ndarray
    valid: np.ndarray


def _style(rng: np.random.Generator) -> dict:
    layout = rng.choice(["12x1", "12x1", "6x2", "3x4"])
    tight = layout == "12x1"
    return dict(
        layout=str(layout),
        pitch_mm=float(rng.uniform(11, 18) if tight else rng.uniform(20, 36)),
        mm_per_mv=float(rng.choice([5.0, 10.0]) if tight else rng.choice([10.0, 10.0, 20.0])),
        px_per_mm=float(rng.uniform(4.5, 10.0)),
        pen_mm=float(rng.uniform(0.15, 0.45)),
        scale=float(rng.uniform(0.8, 1.7)),
    )


def _draw(canvas: np.ndarray, xs: np.ndarray, ys: np.ndarray, thickness: int) -> None:
    pts = np.round(np.stack([xs - 0.5, ys - 0.5], axis=1) * (1 << SHIFT)).astype(np.int32)
    cv2.polylines(canvas, [pts], False, 1, thickness, cv2.LINE_8, SHIFT)


def synth_page(
    signal: np.ndarray, rng: np.random.Generator, rows_per_page: int = 4
) -> list[SynthRow]:
    """``rows_per_page`` rows of one drawn print of ``signal`` (12, 5000) mV."""
    s = _style(rng)
    d, gain = s["px_per_mm"], s["mm_per_mv"]
    rhythm = ("II",) if s["layout"] == "3x4" and rng.random() < 0.8 else ()
    page_panels = panels(s["layout"], rhythm)
    n_rows = max(p.row for p in page_panels) + 1
    x0 = 15 * d
    width = int(x0 + (SECONDS * MM_PER_S + 10) * d)
    height = int((n_rows + 1) * s["pitch_mm"] * d)
    baselines = (np.arange(n_rows) + 1) * s["pitch_mm"] * d
    canvas = np.zeros((height, width), np.uint8)
    thickness = max(1, int(round(s["pen_mm"] * d)))
    sig = signal * s["scale"]
    for p in page_panels:
        n = np.arange(int(round(p.t0 * FS)), int(round(p.t1 * FS)))
        xs = x0 + n / FS * MM_PER_S * d
        ys = baselines[p.row] - sig[p.lead, n] * gain * d
        _draw(canvas, xs, ys, thickness)
        if s["layout"] == "3x4" and p.t0 > 0 and rng.random() < 0.6:  # separator
            x = xs[0]
            _draw(canvas, np.array([x, x]), baselines[p.row] + np.array([-4, 4]) * d, thickness)
        if rng.random() < 0.7:  # the lead's label, 1.5-3.5 mm tall, just after its start
            org = (
                int(xs[0] + rng.uniform(0.3, 3) * d),
                int(baselines[p.row] - rng.uniform(1.5, 6) * d),
            )
            scale = rng.uniform(1.5, 3.5) * d / LABEL_PX
            cv2.putText(canvas, LEADS[p.lead], org, cv2.FONT_HERSHEY_SIMPLEX, scale, 1, thickness)
    if rng.random() < 0.8:  # calibration pulses, 0.2 s wide, ending at t = 0 or before it
        end = x0 - rng.choice([0.0, rng.uniform(0.5, 5)]) * d
        for b in baselines:
            px = end - np.array([8, 5, 5, 0, 0]) * d
            py = b - np.array([0, 0, 1, 1, 0]) * gain * d
            _draw(canvas, px, py, thickness)
    mask = canvas.astype(bool)
    if rng.random() < 0.3:  # ink spread by the scan's blur and threshold
        mask = cv2.dilate(mask.astype(np.uint8), np.ones((2, 2), np.uint8)).astype(bool)
    mask[:, rng.random(width) < rng.uniform(0, 0.03)] = False  # grid lines taken out
    mask |= rng.random(mask.shape) < rng.uniform(0, 0.001)  # specks
    out = []
    x_from = int(max(0, x0 - rng.uniform(0, 9) * d))
    x_to = int(min(width, x0 + SECONDS * MM_PER_S * d + rng.uniform(0, 3) * d))
    for r in rng.choice(n_rows, size=min(rows_per_page, n_rows), replace=False):
        found = baselines[r] + rng.normal(0, 0.8) * d  # the rows stage's baseline is near
        ink, top, px_a_bin = row_input(mask, found, x_from, x_to, (d, d))
        cols = ink.shape[1]
        x = x_from + (np.arange(cols) + 0.5) * (x_to - x_from) / cols
        t = (x - x0) / (MM_PER_S * d)
        target = np.full(cols, np.nan)
        valid = np.zeros(cols, bool)
        edge = BOUNDARY_MM / MM_PER_S
        for p in page_panels:
            if p.row != r:
                continue
            inside = (t >= p.t0 + (edge if p.t0 > 0 else 0)) & (t < p.t1 - edge)
            v = np.interp(t[inside] * FS, np.arange(sig.shape[1]), sig[p.lead])
            target[inside] = (baselines[r] - v * gain * d - top) / px_a_bin - 0.5
            valid |= inside
        valid &= (target >= 0) & (target <= ink.shape[0] - 1)
        out.append(SynthRow((ink * 255).astype(np.uint8), target.astype(np.float32), valid))
    return out

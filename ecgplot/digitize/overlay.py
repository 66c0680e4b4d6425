"""What the digitiser read, drawn over the picture it read it from."""

from __future__ import annotations

import cv2
import numpy as np

from ..aiwin import FS, LEADS, N_SAMPLES
from .page import Page

TRACE = (220, 20, 60)  # RGB: the read trace
BOX = (30, 90, 200)  # each panel's box and lead name
MAX_SIDE = 1600  # the drawing is shrunk to this long side


def draw_reading(picture: np.ndarray, page: Page, signal: np.ndarray) -> np.ndarray:
    """RGB uint8: the upright picture, lightened, each panel boxed (its row halfway to
    the neighbouring rows) and named by its lead, and each panel's read trace drawn over
    it where it was read (its level on its row's baseline), shrunk to ``MAX_SIDE``."""
    out = (picture.astype(np.float32) * 0.45 + 140).astype(np.uint8)
    scale = min(1.0, MAX_SIDE / max(out.shape[:2]))
    if scale < 1.0:
        out = cv2.resize(out, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    px_per_mv = page.mm_per_mv * page.px_per_mm[1]
    base_y = np.asarray(page.baselines, float)
    half = np.diff(base_y) / 2 if len(base_y) > 1 else np.array([page.bands[0][1] / 2])
    tops = base_y - np.r_[half[0], half]  # each row's box: halfway to its neighbours
    bottoms = base_y + np.r_[half, half[-1]]
    for r, (top, bottom, base) in enumerate(zip(tops, bottoms, base_y)):
        for panel, origin in zip(page.row_panels[r], page.origins[r]):
            x0, x1 = origin + panel.t0 * page.px_per_s, origin + panel.t1 * page.px_per_s
            box = np.array([[x0, top], [x1, bottom]]) * scale
            cv2.rectangle(out, *[tuple(int(v) for v in c) for c in box], BOX, 1)
            at = (int(box[0, 0]) + 3, int(box[0, 1]) + 14)
            cv2.putText(out, LEADS[panel.lead], at, cv2.FONT_HERSHEY_SIMPLEX, 0.45, BOX, 1)
            n = np.arange(int(round(panel.t0 * FS)), min(N_SAMPLES, int(round(panel.t1 * FS))))
            x = (origin + n / FS * page.px_per_s) * scale
            y = (base - signal[panel.lead, n] * px_per_mv) * scale
            _polylines(out, x, y)
    return out


def _polylines(img: np.ndarray, x: np.ndarray, y: np.ndarray) -> None:
    """The curve through (x, y), broken where y is NaN."""
    ok = np.isfinite(y)
    edges = np.flatnonzero(np.diff(np.r_[0, ok.astype(np.int8), 0]))
    for a, b in zip(edges[::2], edges[1::2]):
        points = np.stack([x[a:b], y[a:b]], axis=1).round().astype(np.int32)
        cv2.polylines(img, [points], False, TRACE, 1, cv2.LINE_AA)

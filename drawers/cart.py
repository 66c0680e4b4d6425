"""Prints as hospital carts lay them out, for the hard cases: rows as close as carts print
them (so tall QRS complexes run into the neighbouring row), 12x1 at 5 or 10 mm/mV, and
close-up phone photos whose sheet fills the frame, with perspective and no paper edge.

A third route beside ``printsim`` and ``otherdraw``: it imports nothing from ``ecgplot``
and shares no code with the other drawers. Traces are drawn unclipped over each other,
the way a thermal printer lays them down; A4 landscape paper, red grid, a 1 mV pulse at
the left of every row that stands on the baseline, lead labels above the baseline.

    page = draw_cart(signal, CartStyle(layout="3x4", row_pitch_mm=30.0))
    photo = close_up(page.image, np.random.default_rng(0))
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

LEADS = ("I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6")
FS = 500
PAGE_MM = (297.0, 210.0)  # A4 landscape
LEFT_MM = 22.0  # second 0 of every row
ROWS_3X4 = (("I", "aVR", "V1", "V4"), ("II", "aVL", "V2", "V5"), ("III", "aVF", "V3", "V6"))
ROWS_6X2 = (("I", "V1"), ("II", "V2"), ("III", "V3"), ("aVR", "V4"), ("aVL", "V5"), ("aVF", "V6"))


@dataclass(frozen=True)
class CartStyle:
    """Layout ("3x4" with one lead-II strip, "6x2", "12x1"), baseline pitch in mm, gain,
    resolution and pen."""

    layout: str = "3x4"
    row_pitch_mm: float = 32.0
    mm_per_mv: float = 10.0
    dpi: float = 200.0
    pen_mm: float = 0.3
    grid_rgb: tuple[int, int, int] = (240, 150, 150)


@dataclass
class CartPage:
    """RGB uint8 picture, px per mm, the samples each lead shows (12, 5000) bool."""

    image: np.ndarray
    px_per_mm: float
    printed: np.ndarray


def _panels(layout: str) -> list[list[tuple[str, float, float]]]:
    if layout == "3x4":
        rows = [[(lead, 2.5 * c, 2.5 * (c + 1)) for c, lead in enumerate(r)] for r in ROWS_3X4]
        return rows + [[("II", 0.0, 10.0)]]
    if layout == "6x2":
        return [[(a, 0.0, 5.0), (b, 5.0, 10.0)] for a, b in ROWS_6X2]
    if layout == "12x1":
        return [[(lead, 0.0, 10.0)] for lead in LEADS]
    raise ValueError(f"unknown layout {layout!r}")


def draw_cart(signal: np.ndarray, style: CartStyle) -> CartPage:
    """``signal`` (12, 5000) mV printed as ``style`` says; rows centred on the page."""
    signal = np.asarray(signal, float)
    rows = _panels(style.layout)
    w, h = PAGE_MM
    fig = plt.figure(figsize=(w / 25.4, h / 25.4), dpi=style.dpi)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, w)
    ax.set_ylim(0, h)
    ax.axis("off")
    colour = np.array(style.grid_rgb) / 255.0
    light = 1 - 0.45 * (1 - colour)
    for x in np.arange(0, w + 0.01, 1.0):
        major = round(x) % 5 == 0
        ax.axvline(x, color=colour if major else light, lw=0.6 if major else 0.25, zorder=1)
    for y in np.arange(0, h + 0.01, 1.0):
        major = round(y) % 5 == 0
        ax.axhline(y, color=colour if major else light, lw=0.6 if major else 0.25, zorder=1)
    lw = style.pen_mm / 25.4 * 72
    span = style.row_pitch_mm * (len(rows) - 1)
    top = h / 2 + span / 2
    t = np.arange(signal.shape[1]) / FS
    printed = np.zeros((12, signal.shape[1]), bool)
    for r, panels in enumerate(rows):
        base = round(top - r * style.row_pitch_mm)  # baselines on whole millimetres
        g = style.mm_per_mv
        ax.plot(
            LEFT_MM + np.array([-7, -5, -5, -2, -2, 0]),
            base + np.array([0, 0, g, g, 0, 0]),
            color="k",
            lw=lw,
            zorder=3,
        )
        xs, ys = [], []
        for lead, t0, t1 in panels:
            i = LEADS.index(lead)
            sel = (t >= t0) & (t < t1) if t1 < 10 else t >= t0
            printed[i] |= sel
            v = signal[i, sel]
            xs.append(LEFT_MM + t[sel] * 25.0)
            ys.append(base + (v - np.median(signal[i])) * g)
            ax.text(LEFT_MM + t0 * 25.0 + 1.5, base + 4.0, lead, fontsize=7, zorder=4)
        # one continuous stroke per row: the pen moves on from panel to panel
        ax.plot(np.concatenate(xs), np.concatenate(ys), color="k", lw=lw, zorder=3)
    ax.text(12, h - 10, "25 mm/s  10 mm/mV  150 Hz  12SL", fontsize=8)
    fig.canvas.draw()
    image = np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()
    plt.close(fig)
    return CartPage(image, style.dpi / 25.4, printed)


def close_up(image: np.ndarray, rng: np.random.Generator, tilt: float = 0.04) -> np.ndarray:
    """A phone held close: the sheet fills the frame (no paper edge in view), seen at an
    angle (each corner of the frame moved up to ``tilt`` of the side inward), uneven
    light, blur, JPEG."""
    h, w = image.shape[:2]
    # the frame: the page less its margins (the rows and their pulses stay in view)
    src = np.float32([[0.03 * w, 0.06 * h], [0.97 * w, 0.06 * h], [0.97 * w, 0.94 * h],
                      [0.03 * w, 0.94 * h]])  # fmt: skip
    src += (rng.uniform(0, tilt, (4, 2)) * [w, h] * [[1, 1], [-1, 1], [-1, -1], [1, -1]]).astype(
        np.float32
    )
    out_w, out_h = int(0.94 * w), int(0.88 * h)
    dst = np.float32([[0, 0], [out_w - 1, 0], [out_w - 1, out_h - 1], [0, out_h - 1]])
    m = cv2.getPerspectiveTransform(src, dst)
    out = cv2.warpPerspective(image, m, (out_w, out_h), flags=cv2.INTER_AREA).astype(np.float32)
    yy, xx = np.mgrid[0:out_h, 0:out_w].astype(np.float32)
    light = 0.8 + 0.2 * np.cos(xx / out_w * rng.uniform(1, 3) + yy / out_h * rng.uniform(0, 2))
    out *= light[..., None] * np.float32([1.0, 0.95, 0.85])
    out = cv2.GaussianBlur(np.clip(out, 0, 255).astype(np.uint8), (0, 0), 0.8)
    noisy = out.astype(np.float32) + rng.normal(0, 4.0, out.shape).astype(np.float32)
    ok, buf = cv2.imencode(".jpg", np.clip(noisy, 0, 255).astype(np.uint8)[..., ::-1],
                           [cv2.IMWRITE_JPEG_QUALITY, 80])  # fmt: skip
    return cv2.imdecode(buf, cv2.IMREAD_COLOR)[..., ::-1].copy()


def scanned(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A flatbed scan: a turn of up to 1.5 degrees, blur, noise, JPEG."""
    h, w = image.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), rng.uniform(-1.5, 1.5), 1.0)
    out = cv2.warpAffine(image, m, (w, h), borderValue=(255, 255, 255))
    out = cv2.GaussianBlur(out, (0, 0), 0.6).astype(np.float32)
    out += rng.normal(0, 3.0, out.shape).astype(np.float32)
    ok, buf = cv2.imencode(".jpg", np.clip(out, 0, 255).astype(np.uint8)[..., ::-1],
                           [cv2.IMWRITE_JPEG_QUALITY, 88])  # fmt: skip
    return cv2.imdecode(buf, cv2.IMREAD_COLOR)[..., ::-1].copy()

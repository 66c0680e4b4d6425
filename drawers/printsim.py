"""An independent drawing program for test pictures of paper ECGs.

It shares no code with ``ecgplot`` (it imports nothing from it): a matplotlib drawing of
a 12-lead signal the way an electrocardiograph prints it, on letter-size paper at 25 mm/s
with 1 mm / 5 mm grid paper, a header line, lead labels, calibration pulses and
separators between columns, in the three layouts carts print (3x4 with 0-3 rhythm
strips, 6x2, 12x1), and a second step that turns the print into a colour scan, a
black-and-white scan or a phone photo with OpenCV. Tests and benchmarks check the
digitiser on these pictures, never on the project's own renders.

    page = draw_print(signal, PrintStyle(layout="3x4", rhythm=("II",)))
    photo = photograph(page.image, "phone photo", np.random.default_rng(0))
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import cv2
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.collections import LineCollection  # noqa: E402

LEAD_NAMES = ("I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6")
FS = 500
PAGE_MM = (279.4, 215.9)  # US letter, landscape
TRACE_X0_MM = 18.0  # where second 0 of every row is printed
SPEED = 25.0  # mm/s

# grid colours as carts and their papers print them: (minor, major)
GRIDS = {
    "pink": ("#f6c9c9", "#e58f8f"),
    "red": ("#f9d3c4", "#ef7f63"),
    "blue": ("#c9dcf4", "#7fa7dc"),
    "green": ("#cfe8cf", "#86c286"),
    "orange": ("#fbe0c0", "#f2a65a"),
    "grey": ("#dadada", "#a9a9a9"),
}

LAYOUT_3X4 = (("I", "aVR", "V1", "V4"), ("II", "aVL", "V2", "V5"), ("III", "aVF", "V3", "V6"))
LAYOUT_6X2 = (("I", "V1"), ("II", "V2"), ("III", "V3"), ("aVR", "V4"), ("aVL", "V5"), ("aVF", "V6"))


@dataclass(frozen=True)
class PrintStyle:
    """How a cart prints: layout ("3x4", "6x2", "12x1"), rhythm-strip leads (3x4 only),
    grid colour and whether the 1 mm grid is drawn, resolution, gain, ink and extras."""

    layout: str = "3x4"
    rhythm: tuple[str, ...] = ("II",)
    grid: str = "pink"
    minor_grid: bool = True
    dpi: float = 150.0
    mm_per_mv: float = 10.0
    trace_colour: str = "#111111"
    trace_width_pt: float = 0.7
    calibration: bool = True
    separators: bool = True
    labels: bool = True
    header: bool = True


@dataclass
class Page:
    """A drawn print: RGB uint8 image, its px per mm, and ``printed`` (12, 5000) bool:
    which samples of each lead the print shows."""

    image: np.ndarray
    px_per_mm: float
    style: PrintStyle
    printed: np.ndarray = field(repr=False)


def _rows(style: PrintStyle) -> list[list[tuple[str, float, float]]]:
    """Each printed row as (lead, start s, end s) panels."""
    if style.layout == "3x4":
        rows = [[(lead, 2.5 * c, 2.5 * c + 2.5) for c, lead in enumerate(r)] for r in LAYOUT_3X4]
        return rows + [[(lead, 0.0, 10.0)] for lead in style.rhythm]
    if style.layout == "6x2":
        return [[(left, 0.0, 5.0), (right, 5.0, 10.0)] for left, right in LAYOUT_6X2]
    if style.layout == "12x1":
        return [[(lead, 0.0, 10.0)] for lead in LEAD_NAMES]
    raise ValueError(f"unknown layout {style.layout!r}")


def _grid(ax, style: PrintStyle) -> None:
    minor, major = GRIDS[style.grid]
    w, h = PAGE_MM
    for step, colour, lw in ((1.0, minor, 0.35), (5.0, major, 0.7)):
        if step == 1.0 and not style.minor_grid:
            continue
        xs = np.arange(0.0, w + 1e-6, step)
        ys = np.arange(0.0, h + 1e-6, step)
        segs = [[(x, 0), (x, h)] for x in xs] + [[(0, y), (w, y)] for y in ys]
        ax.add_collection(LineCollection(segs, colors=colour, linewidths=lw, zorder=1))


def _pulse(ax, x_end: float, base: float, style: PrintStyle) -> None:
    """The 1 mV, 0.2 s calibration step, ending 1 mm before second 0."""
    h = style.mm_per_mv
    x = [x_end - 8.0, x_end - 6.0, x_end - 6.0, x_end - 1.0, x_end - 1.0, x_end]
    y = [base, base, base + h, base + h, base, base]
    ax.plot(x, y, color=style.trace_colour, lw=style.trace_width_pt, zorder=3)


def draw_print(
    signal: np.ndarray,
    style: PrintStyle,
    header: str = "ID 000  25 mm/s  10 mm/mV",
    pdf: Path | None = None,
) -> Page:
    """Draw ``signal`` (12, 5000) mV as a cart would print it on grid paper; ``pdf``:
    also save the page there as a vector PDF, as carts export it."""
    signal = np.asarray(signal, float)
    rows = _rows(style)
    w, h = PAGE_MM
    fig = plt.figure(figsize=(w / 25.4, h / 25.4), dpi=style.dpi)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, w)
    ax.set_ylim(0, h)
    ax.axis("off")
    _grid(ax, style)
    top, bottom = h - 30.0, 16.0
    pitch = (top - bottom) / max(len(rows) - 1, 1)
    printed = np.zeros((len(LEAD_NAMES), signal.shape[1]), bool)
    t = np.arange(signal.shape[1]) / FS
    for r, panels in enumerate(rows):
        base = top - r * pitch
        if style.calibration:
            _pulse(ax, TRACE_X0_MM, base, style)
        for c, (lead, t0, t1) in enumerate(panels):
            i = LEAD_NAMES.index(lead)
            sel = (t >= t0 - 1e-9) & (t < t1 - 1e-9)
            if c == len(panels) - 1:
                sel |= np.isclose(t, t1)
            sel &= t < signal.shape[1] / FS
            printed[i] |= sel
            v = signal[i, sel]
            ax.plot(
                TRACE_X0_MM + t[sel] * SPEED,
                base + (v - np.median(v)) * style.mm_per_mv,
                color=style.trace_colour,
                lw=style.trace_width_pt,
                zorder=3,
            )
            x = TRACE_X0_MM + t0 * SPEED
            if style.labels:
                ax.text(x + 1.0, base + 5.5, lead, fontsize=8, zorder=4, color="#111111")
            if style.separators and c > 0:
                ax.plot([x, x], [base - 3.0, base + 3.0], color=style.trace_colour, lw=0.8)
    if style.header:
        ax.text(10.0, h - 8.0, header, fontsize=9, family="monospace", color="#111111")
        ax.text(10.0, 6.0, "25 mm/s   10 mm/mV   0.05-150 Hz", fontsize=7, color="#111111")
    fig.canvas.draw()
    image = np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()
    if pdf is not None:
        fig.savefig(pdf, format="pdf")
    plt.close(fig)
    return Page(image, style.dpi / 25.4, style, printed)


# ---- the scan / photo step ------------------------------------------------------------

CONDITIONS = ("clean", "colour scan", "b/w scan", "phone photo")


def _jpeg(img: np.ndarray, quality: int) -> np.ndarray:
    ok, buf = cv2.imencode(
        ".jpg", cv2.cvtColor(img, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality]
    )
    assert ok
    return cv2.cvtColor(cv2.imdecode(buf, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)


def _noise(img: np.ndarray, sigma: float, rng: np.random.Generator) -> np.ndarray:
    out = img.astype(np.float32) + rng.normal(0, sigma, img.shape).astype(np.float32)
    return np.clip(out, 0, 255).astype(np.uint8)


def rotate_page(img: np.ndarray, degrees: float, fill=(255, 255, 255)) -> np.ndarray:
    """Rotate about the centre (counter-clockwise for positive degrees), same size."""
    h, w = img.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    return cv2.warpAffine(img, m, (w, h), flags=cv2.INTER_LINEAR, borderValue=fill)


def scan(img: np.ndarray, rng: np.random.Generator, colour: bool = True) -> np.ndarray:
    """A flatbed scan: slight rotation, paper tint, blur, noise, JPEG; b/w drops colour."""
    out = rotate_page(img, rng.uniform(-2.0, 2.0))
    tint = np.array([1.0, rng.uniform(0.96, 1.0), rng.uniform(0.9, 0.98)], np.float32)
    out = np.clip(out.astype(np.float32) * tint, 0, 255).astype(np.uint8)
    out = cv2.GaussianBlur(out, (0, 0), 0.6)
    if not colour:
        grey = cv2.cvtColor(out, cv2.COLOR_RGB2GRAY).astype(np.float32)
        grey = np.clip((grey - 30) * 1.25, 0, 255)  # the scanner's contrast curve
        out = np.repeat(grey.astype(np.uint8)[..., None], 3, axis=2)
    return _jpeg(_noise(out, 3.0, rng), 88)


def photograph(img: np.ndarray, condition: str, rng: np.random.Generator) -> np.ndarray:
    """``img`` as ``condition``: "clean", "colour scan", "b/w scan" or "phone photo"."""
    if condition == "clean":
        return img.copy()
    if condition in ("colour scan", "b/w scan"):
        return scan(img, rng, colour=condition == "colour scan")
    if condition != "phone photo":
        raise ValueError(f"unknown condition {condition!r}")
    h, w = img.shape[:2]
    pad = int(0.08 * w)
    canvas_w, canvas_h = w + 2 * pad, h + 2 * pad
    page = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    jitter = rng.uniform(-0.035, 0.035, (4, 2)) * np.float32([w, h])
    dst = page + pad + jitter.astype(np.float32)
    m = cv2.getPerspectiveTransform(page, dst)
    rot = cv2.getRotationMatrix2D((canvas_w / 2, canvas_h / 2), rng.uniform(-4.0, 4.0), 1.0)
    m = np.vstack([rot, [0, 0, 1]]) @ m
    table = np.array(rng.choice([[70, 55, 40], [40, 40, 45], [120, 100, 80]]), np.float32)
    bg = np.empty((canvas_h, canvas_w, 3), np.float32)
    bg[:] = table
    bg = _noise(bg.astype(np.uint8), 12.0, rng)
    warped = cv2.warpPerspective(img, m, (canvas_w, canvas_h), flags=cv2.INTER_LINEAR)
    mask = cv2.warpPerspective(np.ones((h, w), np.uint8), m, (canvas_w, canvas_h)) > 0
    out = np.where(mask[..., None], warped, bg).astype(np.float32)
    yy, xx = np.mgrid[0:canvas_h, 0:canvas_w].astype(np.float32)
    angle = rng.uniform(0, 2 * np.pi)
    ramp = np.cos(angle) * xx / canvas_w + np.sin(angle) * yy / canvas_h
    light = 0.78 + 0.22 * (ramp - ramp.min()) / (np.ptp(ramp) + 1e-6)
    cx, cy = rng.uniform(0.2, 0.8) * canvas_w, rng.uniform(0.2, 0.8) * canvas_h
    shadow = 1.0 - 0.2 * np.exp(
        -(((xx - cx) / (0.25 * canvas_w)) ** 2 + ((yy - cy) / (0.2 * canvas_h)) ** 2)
    )
    warm = np.array([1.0, rng.uniform(0.9, 0.98), rng.uniform(0.75, 0.9)], np.float32)
    out = out * (light * shadow)[..., None] * warm
    out = cv2.GaussianBlur(np.clip(out, 0, 255).astype(np.uint8), (0, 0), rng.uniform(0.7, 1.2))
    return _jpeg(_noise(out, 5.0, rng), int(rng.integers(70, 85)))

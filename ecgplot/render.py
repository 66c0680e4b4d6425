"""Render a 12-lead record into a plot image (and an optional STFT spectrogram image).

A layout places each lead's time window into a panel; both renderers draw the same
panels at the same fixed physical scale (``mm_per_s``, ``mm_per_mv``): every record uses
the same mV per pixel and traces that leave their panel are clipped, never rescaled.
The OpenCV renderer is the fast path; the matplotlib renderer is the reference.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

import cv2
import numpy as np
import scipy.signal

from .aiwin import FS, LEADS
from .signal import bandpass

DURATION_S = 10.0
SUBPIXEL_BITS = 4  # cv2.polylines fixed-point precision: 1/16 pixel
FLAT_COLUMN_PX = 0.25  # columns with a smaller vertical extent are drawn as one point
BACKGROUND, TRACE, GRID_MINOR, GRID_MAJOR = 255, 0, 225, 190


@dataclass(frozen=True)
class StftConfig:
    """Log-magnitude STFT image: fixed dB range, frequencies up to ``fmax_hz``."""

    nperseg: int = 256
    noverlap: int = 224
    fmax_hz: float = 50.0
    db_min: float = -80.0
    db_max: float = -10.0


@dataclass(frozen=True)
class RenderConfig:
    """Everything that decides what a rendered image looks like."""

    size: int = 640
    layout: str = "rows12"
    mm_per_s: float = 25.0
    mm_per_mv: float = 5.0
    line_width: int = 1
    grid: bool = False
    lead_labels: bool = False
    highpass_hz: float | None = 0.5
    lowpass_hz: float | None = None
    stft: StftConfig = field(default_factory=StftConfig)

    @property
    def px_per_mm(self) -> float:
        """Pixels per millimetre: the image width holds 10 s at ``mm_per_s``."""
        return self.size / (DURATION_S * self.mm_per_s)

    @property
    def px_per_s(self) -> float:
        return self.px_per_mm * self.mm_per_s

    @property
    def px_per_mv(self) -> float:
        return self.px_per_mm * self.mm_per_mv


@dataclass(frozen=True)
class Panel:
    """One lead's time window ``[t0, t1)`` s drawn into a box of the image (pixels)."""

    lead: int
    t0: float
    t1: float
    x0: float
    y_top: float
    y_bottom: float

    @property
    def y_mid(self) -> float:
        return (self.y_top + self.y_bottom) / 2


def _rows12(size: int) -> list[Panel]:
    """12 stacked rows, each the full 10 s of one lead."""
    h = size / 12
    return [Panel(i, 0.0, DURATION_S, 0.0, i * h, (i + 1) * h) for i in range(12)]


def _columns(size: int, n_rows: int, n_cols: int, rhythm_lead: int | None) -> list[Panel]:
    """Clinical grid: lead ``c * n_rows + r`` at row r, column c, each column a time slice."""
    n_bands = n_rows + (rhythm_lead is not None)
    h, w, dt = size / n_bands, size / n_cols, DURATION_S / n_cols
    panels = [
        Panel(c * n_rows + r, c * dt, (c + 1) * dt, c * w, r * h, (r + 1) * h)
        for c in range(n_cols)
        for r in range(n_rows)
    ]
    if rhythm_lead is not None:
        panels.append(Panel(rhythm_lead, 0.0, DURATION_S, 0.0, n_rows * h, size))
    return panels


LAYOUTS: dict[str, Callable[[int], list[Panel]]] = {
    "rows12": _rows12,
    "grid3x4": lambda size: _columns(size, 3, 4, rhythm_lead=LEADS.index("II")),
    "grid6x2": lambda size: _columns(size, 6, 2, rhythm_lead=None),
}


@lru_cache(maxsize=8)
def layout_panels(layout: str, size: int) -> tuple[Panel, ...]:
    """Panels of a named layout (see ``LAYOUTS``) for a square image of ``size`` pixels."""
    if layout not in LAYOUTS:
        raise ValueError(f"unknown layout {layout!r}; choose from {sorted(LAYOUTS)}")
    return tuple(LAYOUTS[layout](size))


def prepare_signal(signal: np.ndarray, cfg: RenderConfig, fs: int = FS) -> np.ndarray:
    """Signal operations before drawing: the configured band-pass filter, as float32."""
    return bandpass(np.asarray(signal, dtype=np.float32), fs, cfg.highpass_hz, cfg.lowpass_hz)


def center_baseline(signal: np.ndarray) -> np.ndarray:
    """Subtract each lead's median so its baseline sits in the middle of its panel."""
    return signal - np.median(signal, axis=-1, keepdims=True)


def _panel_samples(p: Panel, fs: int, n: int) -> tuple[int, int]:
    """Sample range of a panel; one extra sample joins the trace to the panel's end."""
    return int(round(p.t0 * fs)), min(int(round(p.t1 * fs)) + 1, n)


def panel_traces(signal: np.ndarray, cfg: RenderConfig, fs: int = FS) -> list[np.ndarray]:
    """Full-resolution pixel coordinates (n, 2) of every panel's trace of a prepared
    signal, clipped to the panel's band."""
    sig = center_baseline(signal)
    traces = []
    for p in layout_panels(cfg.layout, cfg.size):
        s0, s1 = _panel_samples(p, fs, sig.shape[-1])
        x = p.x0 + (np.arange(s0, s1, dtype=np.float32) / fs - p.t0) * cfg.px_per_s
        y = np.clip(p.y_mid - sig[p.lead, s0:s1] * cfg.px_per_mv, p.y_top, p.y_bottom - 1)
        traces.append(np.stack([x, y], axis=1))
    return traces


@dataclass(frozen=True)
class _DrawPlan:
    """Precomputed gather/reduce indices that turn a signal into per-column min/max points.

    Samples are grouped by (panel, pixel column); each group becomes two polyline points
    at its lowest and highest value, in time order. At the image's resolution this loses
    nothing (every column still spans the trace's full extent) and draws 4-8x fewer points.
    """

    flat: np.ndarray  # (m,) index into signal.ravel() of each gathered sample
    y_mid: np.ndarray  # (m,) panel geometry per sample
    y_top: np.ndarray
    y_bottom: np.ndarray
    starts: np.ndarray  # (g,) first sample of each column group
    ends: np.ndarray  # (g,) last sample of each column group
    column_x: np.ndarray  # (g,) x of each group (pixel column)
    splits: np.ndarray  # point indices where a new panel's polyline starts


@lru_cache(maxsize=8)
def _draw_plan(layout: str, size: int, px_per_s: float, fs: int, n: int) -> _DrawPlan:
    parts: dict[str, list[np.ndarray]] = {k: [] for k in ("lead", "sample", "geo", "col")}
    for p in layout_panels(layout, size):
        s0, s1 = _panel_samples(p, fs, n)
        samples = np.arange(s0, s1)
        parts["lead"].append(np.full(len(samples), p.lead))
        parts["sample"].append(samples)
        parts["geo"].append(np.tile([p.y_mid, p.y_top, p.y_bottom - 1], (len(samples), 1)))
        parts["col"].append(np.rint(p.x0 + (samples / fs - p.t0) * px_per_s).astype(np.int64))
    panel_id = np.concatenate([np.full(len(c), i) for i, c in enumerate(parts["col"])])
    col = np.concatenate(parts["col"])
    new_group = np.r_[True, (col[1:] != col[:-1]) | (panel_id[1:] != panel_id[:-1])]
    starts = np.flatnonzero(new_group)
    panel_starts = np.flatnonzero(np.r_[True, panel_id[starts][1:] != panel_id[starts][:-1]])
    geo = np.concatenate(parts["geo"]).astype(np.float32)
    return _DrawPlan(
        flat=(np.concatenate(parts["lead"]) * n + np.concatenate(parts["sample"])).astype(np.intp),
        y_mid=geo[:, 0].copy(),
        y_top=geo[:, 1].copy(),
        y_bottom=geo[:, 2].copy(),
        starts=starts,
        ends=np.r_[starts[1:], len(col)] - 1,
        column_x=col[starts].astype(np.float32),
        splits=2 * panel_starts[1:],
    )


def grid_lines(cfg: RenderConfig) -> tuple[np.ndarray, np.ndarray]:
    """Positions (pixels) of the 1 mm minor and 5 mm major grid lines."""
    pos = np.arange(0, cfg.size, cfg.px_per_mm)
    index = np.arange(len(pos))
    return pos[index % 5 != 0], pos[index % 5 == 0]


@lru_cache(maxsize=8)
def _background(cfg: RenderConfig) -> np.ndarray:
    img = np.full((cfg.size, cfg.size), BACKGROUND, np.uint8)
    if cfg.grid:
        minor, major = grid_lines(cfg)
        for pos, shade in ((minor, GRID_MINOR), (major, GRID_MAJOR)):
            idx = np.round(pos).astype(int)
            img[idx, :] = np.minimum(img[idx, :], shade)
            img[:, idx] = np.minimum(img[:, idx], shade)
    if cfg.lead_labels:
        for p in layout_panels(cfg.layout, cfg.size):
            org = (int(p.x0) + 3, int(p.y_top) + 11)
            cv2.putText(img, LEADS[p.lead], org, cv2.FONT_HERSHEY_SIMPLEX, 0.35, 0, 1, cv2.LINE_AA)
    img.setflags(write=False)
    return img


def draw_plot(signal: np.ndarray, cfg: RenderConfig, fs: int = FS) -> np.ndarray:
    """Fast renderer of a prepared signal: uint8 (size, size) image via OpenCV AA polylines."""
    plan = _draw_plan(cfg.layout, cfg.size, cfg.px_per_s, fs, signal.shape[-1])
    sig = np.ascontiguousarray(center_baseline(signal), dtype=np.float32)
    y = plan.y_mid - sig.ravel()[plan.flat] * np.float32(cfg.px_per_mv)
    np.clip(y, plan.y_top, plan.y_bottom, out=y)
    lo, hi = np.minimum.reduceat(y, plan.starts), np.maximum.reduceat(y, plan.starts)
    falling = y[plan.starts] <= y[plan.ends]  # image y grows downwards
    points = np.empty((2 * len(lo), 2), np.float32)
    points[0::2, 0] = points[1::2, 0] = plan.column_x
    points[0::2, 1] = np.where(falling, lo, hi)
    points[1::2, 1] = np.where(falling, hi, lo)
    fixed = np.rint(points * (1 << SUBPIXEL_BITS)).astype(np.int32)
    # a column whose extent is under 1/4 pixel needs one point, not two
    keep = np.ones(len(points), bool)
    keep[1::2] = hi - lo >= FLAT_COLUMN_PX
    polylines = np.split(fixed[keep], np.cumsum(keep)[plan.splits - 1])
    img = _background(cfg).copy()
    cv2.polylines(img, polylines, False, TRACE, cfg.line_width, cv2.LINE_AA, SUBPIXEL_BITS)
    return img


def render_plot(signal: np.ndarray, cfg: RenderConfig, fs: int = FS) -> np.ndarray:
    """Record signal (12, n) mV to a uint8 grayscale (size, size) plot image (fast path)."""
    return draw_plot(prepare_signal(signal, cfg, fs), cfg, fs)


def draw_plot_reference(signal: np.ndarray, cfg: RenderConfig, fs: int = FS) -> np.ndarray:
    """Reference renderer of a prepared signal with matplotlib: same layout, scale and
    full-resolution traces (slow; for checks and the benchmark)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    dpi = 100
    fig = Figure(figsize=(cfg.size / dpi, cfg.size / dpi), dpi=dpi)
    canvas = FigureCanvasAgg(fig)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(-0.5, cfg.size - 0.5)
    ax.set_ylim(cfg.size - 0.5, -0.5)
    ax.axis("off")
    px = 72 / dpi  # points per pixel
    if cfg.grid:
        minor, major = grid_lines(cfg)
        for pos, shade in ((minor, GRID_MINOR), (major, GRID_MAJOR)):
            color = str(shade / 255)
            ax.vlines(np.round(pos), -0.5, cfg.size - 0.5, colors=color, linewidth=px, snap=False)
            ax.hlines(np.round(pos), -0.5, cfg.size - 0.5, colors=color, linewidth=px, snap=False)
    if cfg.lead_labels:
        for p in layout_panels(cfg.layout, cfg.size):
            ax.text(p.x0 + 3, p.y_top + 11, LEADS[p.lead], fontsize=7)
    for trace in panel_traces(signal, cfg, fs):
        ax.plot(trace[:, 0], trace[:, 1], color="k", linewidth=cfg.line_width * px, snap=False)
    canvas.draw()
    rgba = np.asarray(canvas.buffer_rgba())
    return cv2.cvtColor(rgba, cv2.COLOR_RGBA2GRAY)


def render_plot_reference(signal: np.ndarray, cfg: RenderConfig, fs: int = FS) -> np.ndarray:
    """Record signal to a plot image with the matplotlib reference renderer."""
    return draw_plot_reference(prepare_signal(signal, cfg, fs), cfg, fs)


def render_stft(signal: np.ndarray, cfg: RenderConfig, fs: int = FS) -> np.ndarray:
    """uint8 (size, size) image of the 12 leads' log-magnitude STFTs, tiled 4 rows x 3 cols.

    Magnitudes map linearly from the fixed ``[db_min, db_max]`` (dB re 1 mV) to 0-255, so
    brightness means the same power in every record; low frequencies are at the bottom.
    """
    s = cfg.stft
    sig = center_baseline(prepare_signal(signal, cfg, fs))
    freqs, _, z = scipy.signal.stft(sig, fs=fs, nperseg=s.nperseg, noverlap=s.noverlap, axis=-1)
    db = 20 * np.log10(np.abs(z[:, freqs <= s.fmax_hz, :]) + 1e-9)
    scaled = np.clip((db - s.db_min) / (s.db_max - s.db_min), 0, 1) * 255
    tiles = scaled.astype(np.uint8)[:, ::-1, :]
    rows, cols = np.linspace(0, cfg.size, 5).astype(int), np.linspace(0, cfg.size, 4).astype(int)
    img = np.empty((cfg.size, cfg.size), np.uint8)
    for lead in range(len(LEADS)):
        r, c = divmod(lead, 3)
        h, w = rows[r + 1] - rows[r], cols[c + 1] - cols[c]
        tile = cv2.resize(tiles[lead], (w, h), interpolation=cv2.INTER_LINEAR)
        img[rows[r] : rows[r + 1], cols[c] : cols[c + 1]] = tile
    return img

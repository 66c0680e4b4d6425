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
    """Filter as configured and remove each lead's median so its baseline sits mid-panel."""
    sig = bandpass(np.asarray(signal, dtype=np.float32), fs, cfg.highpass_hz, cfg.lowpass_hz)
    return sig - np.median(sig, axis=-1, keepdims=True)


def panel_traces(signal: np.ndarray, cfg: RenderConfig, fs: int = FS) -> list[np.ndarray]:
    """Pixel coordinates (n, 2) of every panel's trace, clipped to the panel's band."""
    sig = prepare_signal(signal, cfg, fs)
    traces = []
    for p in layout_panels(cfg.layout, cfg.size):
        s0, s1 = int(round(p.t0 * fs)), min(int(round(p.t1 * fs)) + 1, sig.shape[-1])
        t = np.arange(s0, s1, dtype=np.float32) / fs
        x = p.x0 + (t - p.t0) * cfg.px_per_s
        y = np.clip(p.y_mid - sig[p.lead, s0:s1] * cfg.px_per_mv, p.y_top, p.y_bottom - 1)
        traces.append(np.stack([x, y], axis=1))
    return traces


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


def render_plot(signal: np.ndarray, cfg: RenderConfig, fs: int = FS) -> np.ndarray:
    """Fast renderer: uint8 grayscale (size, size) image of all 12 leads (OpenCV)."""
    img = _background(cfg).copy()
    scale = 1 << SUBPIXEL_BITS
    pts = [np.round(tr * scale).astype(np.int32) for tr in panel_traces(signal, cfg, fs)]
    cv2.polylines(img, pts, False, TRACE, cfg.line_width, cv2.LINE_AA, SUBPIXEL_BITS)
    return img


def render_plot_reference(signal: np.ndarray, cfg: RenderConfig, fs: int = FS) -> np.ndarray:
    """Reference renderer of the same layout and scale with matplotlib (slow)."""
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


def render_stft(signal: np.ndarray, cfg: RenderConfig, fs: int = FS) -> np.ndarray:
    """uint8 (size, size) image of the 12 leads' log-magnitude STFTs, tiled 4 rows x 3 cols.

    Magnitudes map linearly from the fixed ``[db_min, db_max]`` (dB re 1 mV) to 0-255, so
    brightness means the same power in every record; low frequencies are at the bottom.
    """
    s = cfg.stft
    sig = prepare_signal(signal, cfg, fs)
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

"""Render a 12-lead record into a plot image (and an optional STFT spectrogram image).

A layout places each lead's time window into a panel; both renderers draw the same
panels at the same fixed physical scale (``mm_per_s``, ``mm_per_mv``): every record uses
the same mV per pixel and traces that leave their panel are clipped, never rescaled.
The fast path reduces each trace to its extent per pixel column and rasterises that with
numpy (``spans``) or OpenCV AA polylines (``opencv``); matplotlib is the reference.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Annotated

import cv2
import numpy as np
import scipy.signal
from pydantic import Field

from .aiwin import FS, LEADS
from .config import section
from .prints import Panel
from .prints import panels as print_panels
from .signal import bandpass_present, r_peaks_present

DURATION_S = 10.0
BEAT_WINDOW_S = (-0.4, 0.5)  # median beat around the R peak: a long PR to the T wave's end
BEAT_SECONDS = BEAT_WINDOW_S[1] - BEAT_WINDOW_S[0]
OVERLAY_WINDOW_S = (-1.2, 1.2)  # superimposed beats: the R peaks before and after too
OVERLAY_SECONDS = OVERLAY_WINDOW_S[1] - OVERLAY_WINDOW_S[0]
OVERLAY_BEATS = 12  # at most this many beats superimposed (evenly spaced over the record)
SUBPIXEL_BITS = 4  # cv2.polylines fixed-point precision: 1/16 pixel
FLAT_COLUMN_PX = 0.25  # the polyline draws a column with a smaller extent as one point
BASELINE_HZ = 100  # sampling rate at which a lead's baseline level is estimated
BACKGROUND, TRACE, GRID_MINOR, GRID_MAJOR = 255, 0, 225, 190
CALIBRATION_S = 0.2  # the standard 1 mV pulse lasts 0.2 s (5 mm at 25 mm/s)

Hz = Annotated[float, Field(gt=0, lt=FS / 2)]


@section
class StftConfig:
    """Log-magnitude STFT image: fixed dB range, frequencies up to ``fmax_hz``."""

    nperseg: Annotated[int, Field(ge=16, le=5000)] = 256
    noverlap: Annotated[int, Field(ge=0)] = 224
    fmax_hz: Annotated[float, Field(gt=0, le=FS / 2)] = 50.0
    db_min: float = -80.0
    db_max: float = -10.0

    def __post_init__(self) -> None:
        if self.noverlap >= self.nperseg:
            raise ValueError(f"noverlap ({self.noverlap}) must be below nperseg ({self.nperseg})")
        if self.db_min >= self.db_max:
            raise ValueError(f"db_min ({self.db_min}) must be below db_max ({self.db_max})")


@section
class RenderConfig:
    """Everything that decides what a rendered image looks like."""

    size: Annotated[int, Field(ge=32, le=4096)] = 640
    layout: str = "rows12"
    mm_per_s: Annotated[float, Field(gt=0, le=1000)] = 25.0
    mm_per_mv: Annotated[float, Field(gt=0, le=1000)] = 5.0
    line_width: Annotated[int, Field(ge=1, le=16)] = 1
    rasterizer: str = "spans"
    grid: bool = False
    minor_grid: bool = True  # with grid: 1 mm lines too (False: 5 mm lines only)
    lead_labels: bool = False
    calibration: bool = False  # 1 mV x 0.2 s pulse at the start of each row of panels
    highpass_hz: Hz | None = 0.5
    lowpass_hz: Hz | None = None
    stft: StftConfig = field(default_factory=StftConfig)

    def __post_init__(self) -> None:
        for key, value, choices in (
            ("layout", self.layout, LAYOUTS),
            ("rasterizer", self.rasterizer, RASTERIZERS),
        ):
            if value not in choices:
                raise ValueError(f"unknown {key} {value!r}; choose from {sorted(choices)}")
        if self.highpass_hz and self.lowpass_hz and self.highpass_hz >= self.lowpass_hz:
            raise ValueError(
                f"highpass_hz ({self.highpass_hz}) must be below lowpass_hz ({self.lowpass_hz})"
            )

    @property
    def px_per_mm(self) -> float:
        """Pixels per millimetre: the image width holds the layout's seconds (10 s, or
        one beat for ``beats12``) at ``mm_per_s``."""
        return self.size / (LAYOUTS[self.layout].seconds * self.mm_per_s)

    @property
    def px_per_s(self) -> float:
        return self.px_per_mm * self.mm_per_s

    @property
    def px_per_mv(self) -> float:
        return self.px_per_mm * self.mm_per_mv


def _stacked(seconds: float) -> tuple[Panel, ...]:
    """12 stacked rows, each ``seconds`` of one lead across the whole width."""
    return tuple(Panel(i, i, 0.0, seconds) for i in range(12))


@dataclass(frozen=True)
class Layout:
    """A named arrangement of print panels (:class:`~ecgplot.prints.Panel`): what each
    row draws and how many seconds the image width holds (which, with ``mm_per_s``,
    sets the pixels per millimetre)."""

    panels: tuple[Panel, ...]
    seconds: float = DURATION_S
    beats: str | None = None  # None: the record; "median" or "overlay": see prepare_signal
    # (rows, columns) of lead spectrograms instead of traces (render_stft); None: traces
    spectrogram: tuple[int, int] | None = None

    @property
    def rows(self) -> int:
        return max(p.row for p in self.panels) + 1


LAYOUTS: dict[str, Layout] = {  # the clinical prints come from the print templates
    "rows12": Layout(tuple(print_panels("12x1"))),
    "grid3x4": Layout(tuple(print_panels("3x4", ("II",)))),
    "grid6x2": Layout(tuple(print_panels("6x2"))),
    "beats12": Layout(_stacked(BEAT_SECONDS), seconds=BEAT_SECONDS, beats="median"),
    "overlay12": Layout(_stacked(OVERLAY_SECONDS), seconds=OVERLAY_SECONDS, beats="overlay"),
    # each lead's STFT in its own band, time across: a view for a head that pools per lead
    "stft12": Layout(_stacked(DURATION_S), spectrogram=(12, 1)),
}


@dataclass(frozen=True)
class Placed:
    """A print panel placed in a square image: its row's band and left edge (pixels)."""

    panel: Panel
    x0: float
    y_top: float
    y_bottom: float

    @property
    def lead(self) -> int:
        return self.panel.lead

    @property
    def t0(self) -> float:
        return self.panel.t0

    @property
    def t1(self) -> float:
        return self.panel.t1

    @property
    def y_mid(self) -> float:
        return (self.y_top + self.y_bottom) / 2


@lru_cache(maxsize=8)
def layout_panels(layout: str, size: int) -> tuple[Placed, ...]:
    """Panels of a named layout (see ``LAYOUTS``) placed in a square image of ``size``
    pixels: one band per row, time across the width."""
    if layout not in LAYOUTS:
        raise ValueError(f"unknown layout {layout!r}; choose from {sorted(LAYOUTS)}")
    lay = LAYOUTS[layout]
    h = size / lay.rows
    return tuple(
        Placed(p, p.t0 / lay.seconds * size, p.row * h, (p.row + 1) * h) for p in lay.panels
    )


def _beat_windows(signal: np.ndarray, window_s: tuple[float, float], fs: int) -> np.ndarray:
    """(beats, leads, samples) windows of ``window_s`` around the R peaks found on lead II
    (neurokit2; on a partial record, the longest lead shown) that fit in the record, NaN
    where a lead is not shown; no beat gives one flat window."""
    start = round(window_s[0] * fs)
    offsets = np.arange(start, start + round((window_s[1] - window_s[0]) * fs))
    peaks = r_peaks_present(signal, fs, LEADS.index("II"))
    peaks = peaks[(peaks + offsets[0] >= 0) & (peaks + offsets[-1] < signal.shape[-1])]
    if not len(peaks):
        return np.zeros((1, signal.shape[0], len(offsets)), np.float32)
    return signal[:, peaks[:, None] + offsets[None, :]].transpose(1, 0, 2).astype(np.float32)


def _shown(windows: np.ndarray) -> np.ndarray:
    """(beats, leads) whether a beat's window is complete in a lead."""
    return np.isfinite(windows).all(axis=-1)


def median_beats(signal: np.ndarray, fs: int = FS) -> np.ndarray:
    """Each lead's median beat (12, ``BEAT_SECONDS`` x fs): the sample-wise median of the
    windows from ``BEAT_WINDOW_S[0]`` to ``BEAT_WINDOW_S[1]`` s around the R peaks, as ECG
    carts print their median complexes; over the beats each lead shows in a partial
    record (a 3x4 print: two or three). No beat found gives flat lines."""
    windows = _beat_windows(signal, BEAT_WINDOW_S, fs)
    shown = _shown(windows)
    if shown.all():
        return np.median(windows, axis=0)
    windows = np.where(shown[..., None], windows, np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a lead shown in no beat
        return np.nan_to_num(np.nanmedian(windows, axis=0)).astype(np.float32)


def overlay_beats(signal: np.ndarray, fs: int = FS) -> np.ndarray:
    """Up to ``OVERLAY_BEATS`` windows (beats, 12, ``OVERLAY_SECONDS`` x fs) around R
    peaks, evenly spaced over the record, to be drawn on top of each other: the spread
    of the neighbouring R peaks shows how regular the rhythm is, an odd beat stands out.
    A lead of a partial record repeats a window it shows where it shows none (repeats
    draw over themselves) and is flat where it shows no beat at all."""
    windows = _beat_windows(signal, OVERLAY_WINDOW_S, fs)
    keep = np.unique(np.linspace(0, len(windows) - 1, OVERLAY_BEATS).round().astype(int))
    shown = _shown(windows)
    if shown.all():
        return windows[keep]
    windows = windows.copy()
    for lead in range(windows.shape[1]):
        have = np.flatnonzero(shown[:, lead])
        if not len(have):
            windows[:, lead] = 0.0
            continue
        nearest = have[np.abs(np.arange(len(windows))[:, None] - have[None, :]).argmin(axis=1)]
        windows[:, lead] = windows[nearest, lead]
    return np.nan_to_num(windows[keep])


def prepare_signal(signal: np.ndarray, cfg: RenderConfig, fs: int = FS) -> np.ndarray:
    """Signal operations before drawing: the configured band-pass filter, as float32, then
    for a beat layout its median beats (12, n) or superimposed beats (beats, 12, n)."""
    sig = np.asarray(signal, dtype=np.float32)
    sig = bandpass_present(sig, fs, cfg.highpass_hz, cfg.lowpass_hz)
    beats = LAYOUTS[cfg.layout].beats
    if beats == "median":
        return median_beats(sig, fs)
    if beats == "overlay":
        return overlay_beats(sig, fs)
    if np.isfinite(sig).all():
        return sig
    # a 10 s layout of a partial record: what is not shown is drawn at the lead's level
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a lead not shown at all
        level = np.nanmedian(np.where(np.isfinite(sig), sig, np.nan), axis=-1, keepdims=True)
    return np.where(np.isfinite(sig), sig, np.nan_to_num(level)).astype(np.float32)


def baseline(signal: np.ndarray, fs: int = FS) -> np.ndarray:
    """Each lead's baseline level (n_leads, 1): the median of the signal sampled at about
    ``BASELINE_HZ`` (a level needs no more samples, and the median is a third of the draw
    time at full rate)."""
    step = max(1, round(fs / BASELINE_HZ))
    return np.median(signal[..., ::step], axis=-1, keepdims=True)


def center_baseline(signal: np.ndarray, fs: int = FS) -> np.ndarray:
    """Subtract each lead's baseline so that it sits in the middle of its panel."""
    return signal - baseline(signal, fs)


def _panel_samples(p: Placed, fs: int, n: int) -> tuple[int, int]:
    """Sample range of a panel; one extra sample joins the trace to the panel's end."""
    return int(round(p.t0 * fs)), min(int(round(p.t1 * fs)) + 1, n)


def panel_traces(signal: np.ndarray, cfg: RenderConfig, fs: int = FS) -> list[np.ndarray]:
    """Full-resolution pixel coordinates (n, 2) of every panel's trace of a prepared
    signal, clipped to the panel's band."""
    sig = center_baseline(signal, fs)
    traces = []
    for p in layout_panels(cfg.layout, cfg.size):
        s0, s1 = _panel_samples(p, fs, sig.shape[-1])
        x = p.x0 + (np.arange(s0, s1, dtype=np.float32) / fs - p.t0) * cfg.px_per_s
        y = np.clip(p.y_mid - sig[p.lead, s0:s1] * cfg.px_per_mv, p.y_top, p.y_bottom - 1)
        traces.append(np.stack([x, y], axis=1))
    return traces


@dataclass(frozen=True)
class _DrawPlan:
    """Precomputed gather indices that reduce a signal to its extent in each pixel column.

    Samples are grouped by (panel, pixel column). ``index`` holds each group's samples as
    one column of a (k, groups) array (short groups repeat their last sample), so the
    per-column max, min, first and last sample are reductions over its rows.
    """

    index: np.ndarray  # (k, g) index into signal.ravel()
    lead: np.ndarray  # (g,) lead of each group
    y_mid: np.ndarray  # (g,) panel geometry of each group (pixels)
    y_top: np.ndarray
    y_bottom: np.ndarray
    x: np.ndarray  # (g,) pixel column of each group
    has_prev: np.ndarray  # (g,) the previous group continues the same trace
    has_next: np.ndarray  # (g,) the next group continues the same trace


@lru_cache(maxsize=8)
def _draw_plan(layout: str, size: int, px_per_s: float, fs: int, n: int) -> _DrawPlan:
    index, geo, x, panel_id = [], [], [], []
    for i, p in enumerate(layout_panels(layout, size)):
        s0, s1 = _panel_samples(p, fs, n)
        samples = np.arange(s0, s1)
        col = np.rint(p.x0 + (samples / fs - p.t0) * px_per_s).astype(np.intp)
        inside = (col >= 0) & (col < size)  # off the image: the right edge's joining sample
        samples, col = samples[inside], col[inside]
        starts = np.flatnonzero(np.r_[True, col[1:] != col[:-1]])
        ends = np.r_[starts[1:], len(col)]
        offsets = np.arange(int((ends - starts).max()))
        index.append(p.lead * n + samples[np.minimum(starts[:, None] + offsets, ends[:, None] - 1)])
        geo.append(np.tile([p.lead, p.y_mid, p.y_top, p.y_bottom - 1], (len(starts), 1)))
        x.append(col[starts])
        panel_id.append(np.full(len(starts), i))
    k = max(a.shape[1] for a in index)
    padded = [np.pad(a, ((0, 0), (0, k - a.shape[1])), mode="edge") for a in index]
    geo_all = np.concatenate(geo)
    pid = np.concatenate(panel_id)
    same = pid[1:] == pid[:-1]
    return _DrawPlan(
        index=np.ascontiguousarray(np.concatenate(padded).T),
        lead=geo_all[:, 0].astype(np.intp),
        y_mid=geo_all[:, 1].astype(np.float32),
        y_top=geo_all[:, 2].astype(np.float32),
        y_bottom=geo_all[:, 3].astype(np.float32),
        x=np.concatenate(x),
        has_prev=np.r_[False, same],
        has_next=np.r_[same, False],
    )


def grid_lines(cfg: RenderConfig) -> tuple[np.ndarray, np.ndarray]:
    """Positions (pixels) of the 1 mm minor (none without ``minor_grid``) and 5 mm major
    grid lines."""
    pos = np.arange(0, cfg.size, cfg.px_per_mm)
    index = np.arange(len(pos))
    minor = pos[index % 5 != 0] if cfg.minor_grid else pos[:0]
    return minor, pos[index % 5 == 0]


def _grid(img: np.ndarray, cfg: RenderConfig) -> None:
    """Draw the grey grid lines into ``img``, darkest wins."""
    minor, major = grid_lines(cfg)
    for pos, ink in ((minor, GRID_MINOR), (major, GRID_MAJOR)):
        idx = np.round(pos).astype(int)
        idx = idx[idx < img.shape[0]]  # a line rounding onto the far edge falls off
        img[idx, :] = np.minimum(img[idx, :], ink)
        img[:, idx] = np.minimum(img[:, idx], ink)


def _marks(img: np.ndarray, cfg: RenderConfig) -> None:
    """Lead labels and calibration pulses, in black, into a grayscale image."""
    panels = layout_panels(cfg.layout, cfg.size)
    if cfg.lead_labels:
        for p in panels:
            org = (int(p.x0) + 3, int(p.y_top) + 11)
            cv2.putText(img, LEADS[p.lead], org, cv2.FONT_HERSHEY_SIMPLEX, 0.35, 0, 1, cv2.LINE_AA)
    if cfg.calibration:  # drawn where printers put it: before each row's first panel
        w, h = CALIBRATION_S * cfg.px_per_s, cfg.px_per_mv
        for p in (p for p in panels if p.x0 == 0):
            y0, y1 = p.y_mid, max(p.y_top, p.y_mid - h)
            pts = np.array([[0, y0], [w / 4, y0], [w / 4, y1], [w, y1], [w, y0], [1.25 * w, y0]])
            fixed = np.rint(pts * (1 << SUBPIXEL_BITS)).astype(np.int32)
            cv2.polylines(img, [fixed], False, TRACE, cfg.line_width, cv2.LINE_AA, SUBPIXEL_BITS)


@lru_cache(maxsize=8)
def _background(cfg: RenderConfig) -> np.ndarray:
    """What the trace is drawn over: the grey grid, lead labels and calibration pulses."""
    img = np.full((cfg.size, cfg.size), BACKGROUND, np.uint8)
    if cfg.grid:
        _grid(img, cfg)
    _marks(img, cfg)
    img.setflags(write=False)
    return img


def _column_y(signal: np.ndarray, plan: _DrawPlan, px_per_mv: float, fs: int) -> np.ndarray:
    """(4, g) y of each column group's highest and lowest point and of its first and last
    sample (pixels; y grows downwards), with the lead's baseline mid-panel, clipped to it."""
    k = np.float32(px_per_mv)
    offset = plan.y_mid + (baseline(signal, fs)[:, 0] * k)[plan.lead]
    s = signal.ravel()[plan.index]
    values = np.stack([s.max(axis=0), s.min(axis=0), s[0], s[-1]])
    y = offset - values * k
    np.maximum(y, plan.y_top, out=y)
    np.minimum(y, plan.y_bottom, out=y)
    return y


def _column_spans(column_y: np.ndarray, plan: _DrawPlan) -> np.ndarray:
    """(2, g) top and bottom y of the trace's centre line in each pixel column: the
    column's samples plus the halves of the segments that join it to its neighbours."""
    top, bottom, first, last = column_y
    joins = np.empty(len(first) + 1, np.float32)  # where the trace crosses column borders
    joins[1:-1] = (last[:-1] + first[1:]) / 2
    prev = np.where(plan.has_prev, joins[:-1], first)
    nxt = np.where(plan.has_next, joins[1:], last)
    return np.stack(
        [np.minimum(top, np.minimum(prev, nxt)), np.maximum(bottom, np.maximum(prev, nxt))]
    )


def _stroke_columns(line_width: int) -> list[tuple[int, float]]:
    """(column offset, horizontal coverage) of a vertical stroke ``line_width`` px wide,
    centre column first."""
    reach = int(np.ceil(line_width / 2))
    cover = [(d, min(1.0, line_width / 2 + 0.5 - abs(d))) for d in range(-reach, reach + 1)]
    return sorted(((d, c) for d, c in cover if c > 0), key=lambda dc: abs(dc[0]))


def _ink(background: np.ndarray, cover: np.ndarray | float) -> np.ndarray:
    """Grey level of pixels that the trace covers by the fraction ``cover``."""
    return np.rint(background * (1 - cover) + TRACE * cover)


def _draw_spans(
    image: np.ndarray, column_y: np.ndarray, plan: _DrawPlan, cfg: RenderConfig
) -> None:
    """Rasterise each pixel column of a trace as one vertical span, widened by half the
    line width, into ``image`` (a copy of the background).

    A pixel's darkness is the fraction of it that the span covers: exact for level and
    vertical strokes, a little darker than true area coverage for sloped ones (about 12%
    more ink than matplotlib at width 1). Wider lines add neighbouring columns.
    """
    half = np.float32(cfg.line_width / 2)
    span = _column_spans(column_y, plan) + np.array([[-half], [half]], np.float32)
    # the first and last pixel row each span touches, and how much of them it covers
    end_rows = np.clip(np.floor(span + 0.5), 0, cfg.size - 1)
    cover = (np.minimum(span[1], end_rows + 0.5) - np.maximum(span[0], end_rows - 0.5)).ravel()
    end_rows = end_rows.astype(np.intp)
    n = end_rows[1] - end_rows[0] + 1
    starts = np.cumsum(n) - n
    down = np.arange(int(n.sum()), dtype=np.intp) * cfg.size
    img = image.reshape(-1)  # a view: writes go to ``image``
    background = _background(cfg).reshape(-1)
    for i, (dx, h) in enumerate(_stroke_columns(cfg.line_width)):
        x = np.clip(plan.x + dx, 0, cfg.size - 1) if dx else plan.x
        inner = down + np.repeat((end_rows[0] - starts) * cfg.size + x, n)
        ends = (end_rows * cfg.size + x).ravel()
        inner_ink = TRACE if h == 1 else _ink(background[inner], h)
        end_ink = _ink(background[ends], h * cover)
        if i:  # a later column of a thick stroke darkens what is drawn, never lightens it
            inner_ink, end_ink = np.minimum(img[inner], inner_ink), np.minimum(img[ends], end_ink)
        img[inner] = inner_ink
        img[ends] = end_ink


def _draw_polylines(
    img: np.ndarray, column_y: np.ndarray, plan: _DrawPlan, cfg: RenderConfig
) -> None:
    """Draw each trace as an OpenCV anti-aliased polyline through two points per pixel
    column, its highest and lowest, in time order, into the (size, size) image ``img``."""
    top, bottom, first, last = column_y
    falling = first <= last
    points = np.empty((2 * len(top), 2), np.float32)
    points[0::2, 0] = points[1::2, 0] = plan.x
    points[0::2, 1] = np.where(falling, top, bottom)
    points[1::2, 1] = np.where(falling, bottom, top)
    fixed = np.rint(points * (1 << SUBPIXEL_BITS)).astype(np.int32)
    keep = np.ones(len(points), bool)
    keep[1::2] = bottom - top >= FLAT_COLUMN_PX  # a level column needs one point, not two
    panel_ends = np.cumsum(keep)[2 * np.flatnonzero(~plan.has_next)[:-1] + 1]
    polylines = np.split(fixed[keep], panel_ends)
    cv2.polylines(img, polylines, False, TRACE, cfg.line_width, cv2.LINE_AA, SUBPIXEL_BITS)


RASTERIZERS: dict[str, Callable[[np.ndarray, np.ndarray, _DrawPlan, RenderConfig], None]] = {
    "spans": _draw_spans,
    "opencv": _draw_polylines,
}


def draw_plot(signal: np.ndarray, cfg: RenderConfig, fs: int = FS) -> np.ndarray:
    """Fast renderer of a prepared signal: uint8 (size, size) anti-aliased image.

    Samples are reduced to their extent in each pixel column, which at the image's
    resolution loses nothing, and rasterised by ``cfg.rasterizer``: ``spans`` (numpy,
    the default and the fastest) or ``opencv`` (AA polylines). Superimposed beats
    (beats, 12, n) are drawn one beat at a time, the darkest ink winning.
    """
    sig = np.asarray(signal, dtype=np.float32)
    plan = _draw_plan(cfg.layout, cfg.size, cfg.px_per_s, fs, sig.shape[-1])
    img = None
    for layer in sig.reshape(-1, *sig.shape[-2:]):  # superimposed beats: darkest wins
        drawn = _background(cfg).copy()
        RASTERIZERS[cfg.rasterizer](drawn, _column_y(layer, plan, cfg.px_per_mv, fs), plan, cfg)
        img = drawn if img is None else np.minimum(img, drawn)
    return img


def render_plot(signal: np.ndarray, cfg: RenderConfig, fs: int = FS) -> np.ndarray:
    """Record signal (12, n) mV to a uint8 grayscale (size, size) plot image (fast path);
    a spectrogram layout (``stft12``) gives the leads' STFTs (:func:`render_stft`)."""
    tiles = LAYOUTS[cfg.layout].spectrogram
    if tiles:
        return render_stft(signal, cfg, fs, tiles)
    return draw_plot(prepare_signal(signal, cfg, fs), cfg, fs)


def draw_plot_reference(signal: np.ndarray, cfg: RenderConfig, fs: int = FS) -> np.ndarray:
    """Reference renderer of a prepared signal with matplotlib: same layout, scale and
    full-resolution traces (slow; for checks and the benchmark)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    if cfg.calibration:
        raise ValueError("the reference renderer draws plots without calibration pulses")

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
    layers = np.asarray(signal).reshape(-1, *np.shape(signal)[-2:])  # superimposed beats
    for trace in (t for layer in layers for t in panel_traces(layer, cfg, fs)):
        ax.plot(trace[:, 0], trace[:, 1], color="k", linewidth=cfg.line_width * px, snap=False)
    canvas.draw()
    rgba = np.asarray(canvas.buffer_rgba())
    return cv2.cvtColor(rgba, cv2.COLOR_RGBA2GRAY)


def render_plot_reference(signal: np.ndarray, cfg: RenderConfig, fs: int = FS) -> np.ndarray:
    """Record signal to a plot image with the matplotlib reference renderer."""
    return draw_plot_reference(prepare_signal(signal, cfg, fs), cfg, fs)


def render_stft(
    signal: np.ndarray, cfg: RenderConfig, fs: int = FS, tiles: tuple[int, int] = (4, 3)
) -> np.ndarray:
    """uint8 (size, size) image of the 12 leads' log-magnitude STFTs, tiled ``tiles``
    (rows, columns; lead i at row i // columns, column i % columns).

    Magnitudes map linearly from the fixed ``[db_min, db_max]`` (dB re 1 mV) to 0-255, so
    brightness means the same power in every record; low frequencies are at the bottom.
    """
    s = cfg.stft
    sig = center_baseline(prepare_signal(signal, cfg, fs), fs)
    freqs, _, z = scipy.signal.stft(sig, fs=fs, nperseg=s.nperseg, noverlap=s.noverlap, axis=-1)
    db = 20 * np.log10(np.abs(z[:, freqs <= s.fmax_hz, :]) + 1e-9)
    scaled = np.clip((db - s.db_min) / (s.db_max - s.db_min), 0, 1) * 255
    spectra = scaled.astype(np.uint8)[:, ::-1, :]
    n_rows, n_cols = tiles
    rows = np.linspace(0, cfg.size, n_rows + 1).astype(int)
    cols = np.linspace(0, cfg.size, n_cols + 1).astype(int)
    img = np.empty((cfg.size, cfg.size), np.uint8)
    for lead in range(len(LEADS)):
        r, c = divmod(lead, n_cols)
        h, w = rows[r + 1] - rows[r], cols[c + 1] - cols[c]
        tile = cv2.resize(spectra[lead], (w, h), interpolation=cv2.INTER_LINEAR)
        img[rows[r] : rows[r + 1], cols[c] : cols[c + 1]] = tile
    return img

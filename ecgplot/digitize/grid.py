"""Ink and grid of an upright print, and the grid's pitch in pixels per millimetre.

Each channel is divided by its local paper brightness (shadows, tinted light go). The
trace is dark in every channel; a coloured grid line is bright in its own colour's
channel, a grey one is lighter than the trace: so the trace is the darkness of the
brightest channel, the grid what is dark in the darkest channel and not trace."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from scipy import ndimage
from scipy.ndimage import gaussian_filter1d, uniform_filter1d

MAJOR_MM = 5.0  # the thick lines of ECG paper
LINE_COLOUR_WEIGHT = 1.5  # how much a bright channel counts against a pixel being trace
MIN_GRID_PEAK = 0.2  # autocorrelation of the grid profile at 5 mm
MIN_TRACE_SCORE = 0.25  # fainter than this is paper or grid
LINE_KEEP = 0.8  # a straight line's pixels this close to the trace's darkness are trace
STROKE_SHARE = 0.03  # strokes this share of the width or wider set the trace's darkness
BRIDGE_MM = 1.5  # breaks down a stroke up to this tall are closed
CROSSING_PX = 7  # a grid line this thick or thinner does not part a stroke crossing it


@dataclass(frozen=True)
class Ink:
    """Trace score (:func:`trace_score`), the pixels taken for trace (:func:`trace_mask`)
    and grid darkness."""

    trace: np.ndarray
    mask: np.ndarray
    grid: np.ndarray


def trace_score(darkest: np.ndarray, brightest: np.ndarray) -> np.ndarray:
    """How much a pixel looks like trace ink, from the paper-relative levels of its
    darkest and brightest channels: dark in the darkest (grey grid lines are light) and
    not bright in the brightest (a coloured grid line is), so black and dark blue pens
    score high."""
    return np.minimum(1.0 - darkest, LINE_COLOUR_WEIGHT * (1.0 - brightest))


def straight_lines(mask: np.ndarray) -> np.ndarray:
    """Pixels of ``mask`` on straight horizontal or vertical lines longer than a sixth of
    the picture: grid lines, not a trace."""
    m = mask.astype(np.uint8)
    h, w = m.shape
    across = cv2.morphologyEx(m, cv2.MORPH_OPEN, np.ones((1, max(3, w // 6)), np.uint8))
    down = cv2.morphologyEx(m, cv2.MORPH_OPEN, np.ones((max(3, h // 6), 1), np.uint8))
    return (across | down) > 0


def trace_mask(score: np.ndarray) -> np.ndarray:
    """Pixels taken for trace ink: scoring above halfway to the trace's own core (the
    99th percentile of its long strokes once straight grid lines are set aside: lead
    labels and header text may be printed darker than a thin trace); pixels of straight
    lines only where they are as dark as the trace (a baseline lying on a grid line)."""
    candidate = score > MIN_TRACE_SCORE
    lines = straight_lines(candidate)
    if not (candidate & ~lines).any():
        return candidate & ~lines
    core = float(np.percentile(score[long_strokes(candidate & ~lines, lines)], 99))
    mask = score > max(MIN_TRACE_SCORE, 0.5 * core)
    return mask & ~(lines & (score < LINE_KEEP * core))


def long_strokes(mask: np.ndarray, lines: np.ndarray) -> np.ndarray:
    """Pixels of ``mask``'s connected strokes at least ``STROKE_SHARE`` of the picture
    wide: traces, not lead labels or header text (printed darker than a thin trace);
    all of ``mask`` when it has none. A stroke is followed across the grid ``lines`` it
    crosses (lines up to ``CROSSING_PX`` thick): where the grid is dark enough to be
    taken for ink, its lines cut the trace into pieces a grid square wide."""
    kernel = np.ones((CROSSING_PX, CROSSING_PX), np.uint8)
    joined = mask | (lines & (cv2.morphologyEx(mask.astype(np.uint8), cv2.MORPH_CLOSE, kernel) > 0))
    labels, n = ndimage.label(joined, np.ones((3, 3)))
    spans = ndimage.find_objects(labels)
    wide = [
        i + 1
        for i, (_, cols) in enumerate(spans)
        if cols.stop - cols.start >= STROKE_SHARE * mask.shape[1]
    ]
    return mask & np.isin(labels, wide) if wide else mask


def separate(rgb: np.ndarray) -> Ink:
    """Split an upright print into trace and grid."""
    img = rgb.astype(np.float32)
    k = max(15, min(img.shape[:2]) // 40) | 1
    paper = cv2.morphologyEx(img, cv2.MORPH_CLOSE, np.ones((k, k), np.uint8))
    paper = cv2.blur(paper, (k, k))
    level = cv2.split(np.clip(img / np.maximum(paper, 1.0), 0, 1))
    darkest = cv2.min(cv2.min(level[0], level[1]), level[2])
    brightest = cv2.max(cv2.max(level[0], level[1]), level[2])
    trace = trace_score(darkest, brightest)
    mask = trace_mask(trace)
    # the grid: whatever is dark in the darkest channel away from the trace (coloured
    # lines are, and so are grey ones, which are lighter than the trace)
    near_trace = cv2.dilate(mask.astype(np.uint8), np.ones((3, 3), np.uint8))
    grid = np.where(near_trace > 0, 0.0, 1.0 - darkest).astype(np.float32)
    return Ink(trace, mask, grid)


STRIP_MM = 12.0  # the grid's profile is taken in strips this wide, across the axis
EMPTY = 0.3  # a stretch of a strip with under this share of its typical grid: no paper


def grid_blocks(profile: np.ndarray, period: float) -> list[np.ndarray]:
    """The stretches of one strip's grid profile where there is grid, parted where a
    program left blank paper between panels (each panel's grid has its own phase, so
    pairs of lines across a gap would blur the period); stretches under 3 periods are
    left out."""
    level = uniform_filter1d(profile, max(3, int(round(period))))
    typical = np.median(level[level > 0]) if (level > 0).any() else 0.0
    on = np.r_[False, level > EMPTY * typical, False].astype(np.int8)
    edges = np.diff(on)
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    return [profile[a:b] for a, b in zip(starts, ends) if b - a >= 3 * period]


def _autocorr(grid: np.ndarray, axis: int, period: float) -> tuple[np.ndarray, int]:
    """Autocorrelation along ``axis`` of the grid's profile, pooled over strips across it
    and over each strip's blocks of grid (:func:`grid_blocks`), each pair of columns
    counted once; and the longest block (the longest lag it can speak for)."""
    n = grid.shape[axis]
    width = max(1, int(round(STRIP_MM * period / MAJOR_MM)))
    total, pairs, longest = np.zeros(n), np.zeros(n), 0
    for start in range(0, grid.shape[1 - axis], width):
        strip = grid[start : start + width] if axis == 1 else grid[:, start : start + width]
        for block in grid_blocks(strip.mean(axis=1 - axis).astype(np.float64), period):
            x = block - gaussian_filter1d(block, 25.0)
            f = np.fft.rfft(x, 2 * len(x))
            total[: len(x)] += np.fft.irfft(f * np.conj(f))[: len(x)]
            pairs[: len(x)] += len(x) - np.arange(len(x))
            longest = max(longest, len(x))
    ac = total / np.maximum(pairs, 1)
    return ac / max(ac[0], 1e-12), longest


def bridge_breaks(mask: np.ndarray, px_per_mm: float) -> np.ndarray:
    """``mask`` with short breaks in steep strokes closed: a thin QRS stroke, blurred by a
    scan or photo, falls apart into pieces down its column, and following the pieces
    loses the peak. A closing down each column, up to ``BRIDGE_MM`` tall, joins them (one
    column wide: wider, it would join a stroke to the next row's trace it passes)."""
    tall = max(3, int(round(BRIDGE_MM * px_per_mm)) | 1)
    kernel = np.ones((tall, 1), np.uint8)
    return cv2.morphologyEx(mask.astype(np.uint8), cv2.MORPH_CLOSE, kernel) > 0


def _peak_near(ac: np.ndarray, lag: float, half: float) -> tuple[float, float]:
    """Sub-sample lag and height of the highest autocorrelation peak within lag±half
    (height 0 when the highest point is the window's edge: the slope of a peak outside)."""
    lo, hi = max(2, int(lag - half)), min(len(ac) - 2, int(np.ceil(lag + half)))
    if hi <= lo:
        return lag, 0.0
    i = lo + int(np.argmax(ac[lo : hi + 1]))
    if i in (lo, hi):
        return lag, 0.0
    a, b, c = ac[i - 1], ac[i], ac[i + 1]
    den = a - 2 * b + c
    return i + (0.5 * (a - c) / den if den < 0 else 0.0), float(b)


def grid_pitch(grid: np.ndarray, axis: int, guess: float) -> float | None:
    """Pixels per mm along ``axis`` (1: across the picture, 0: down) from the periodic grid:
    the 5 mm period nearest ``guess`` px/mm, refined on the longest lag the picture
    allows; None when there is no periodic grid."""
    ac, longest = _autocorr(grid, axis, MAJOR_MM * guess)
    p5, height = _peak_near(ac, MAJOR_MM * guess, 0.2 * MAJOR_MM * guess)
    if height < MIN_GRID_PEAK:
        return None
    # refine: the peak n periods out pins the period n times finer; a grid has it, the
    # texture of a photograph does not. The peak is sought where the period known so
    # far puts it (about a pixel of doubt per period counted): panels printed apart in
    # their own phases put other peaks a few pixels away
    known = 1
    for n in (4, 10, 20):
        if n * p5 * 1.1 >= 0.6 * longest:
            break
        lag, h = _peak_near(ac, n * p5, min(0.3 * p5, max(3.0, 2.0 * n / known)))
        if h < 0.5 * height:
            if n == 4:
                return None
            break
        p5, known = lag / n, n
    return p5 / MAJOR_MM

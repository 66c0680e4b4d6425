"""A picture of a 12-lead print read back into a record: rectify, measure the grid,
find the rows and the layout, follow each row's trace, place every panel at its time."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..aiwin import FS, LEADS, N_SAMPLES, BadInputError
from ..prints import SECONDS, Panel, choose_template, panels
from .grid import bridge_breaks, grid_pitch, separate
from .layout import (
    calibration_gain,
    coarse_px_per_mm,
    find_rows,
    has_separators,
    panel_origins,
    row_bands,
    row_pieces,
    trace_end,
)
from .rectify import rectify
from .trace import column_runs, column_values, line_width, trace_path

MM_PER_S = 25.0
DEFAULT_MM_PER_MV = 10.0
MIN_INK, MAX_INK = 0.002, 0.3  # share of a print's pixels that are trace ink
BOUNDARY_MM = 0.6  # columns this close to a lead change (separator, jump) are not read
MAX_GAP_MM = 2.0  # longer stretches without ink stay missing
MIN_FOLLOWED = 0.85  # share of a row's columns a trace has ink in
ROW_END_MM = 3.0  # a row ending this far from the others may have its own clock


@dataclass
class Digitized:
    """A print read back: ``signal`` (12, 5000) float32 mV with NaN where the print does
    not show a lead, and what was measured on the way."""

    signal: np.ndarray
    layout: str
    rhythm: tuple[str, ...]
    px_per_mm: tuple[float, float]  # across, down
    rotation_deg: float
    paper_found: bool
    mm_per_mv: float
    gain_source: str  # "calibration pulse" or "assumed"

    @property
    def printed(self) -> np.ndarray:
        """(12, 5000) bool: the samples the print shows."""
        return np.isfinite(self.signal)


def _fail(source: str | Path, problem: str) -> BadInputError:
    return BadInputError(source, f"not a readable ECG print: {problem}")


def _panel_samples(
    values: np.ndarray, x_from: int, x0: float, px_per_s: float, panel: Panel, px_per_mm: float
) -> tuple[np.ndarray, np.ndarray]:
    """Sample indices of ``panel`` and the trace heights (px) at them, NaN where the
    print shows nothing; the columns at a lead change are left out."""
    n = np.arange(
        int(np.ceil(panel.t0 * FS - 1e-6)), min(N_SAMPLES, int(np.ceil(panel.t1 * FS - 1e-6)))
    )
    cols = np.arange(len(values)) + x_from + 0.5  # column centres
    margin = BOUNDARY_MM * px_per_mm
    lo = x0 + panel.t0 * px_per_s + (margin if panel.t0 > 0 else -np.inf)
    hi = x0 + panel.t1 * px_per_s - (margin if panel.t1 < SECONDS else -np.inf)
    use = (cols >= lo) & (cols <= hi) & np.isfinite(values)
    out = np.full(len(n), np.nan)
    if use.sum() < 2:
        return n, out
    xs = x0 + n / FS * px_per_s
    out = np.interp(xs, cols[use], values[use])
    # nearest read column farther than MAX_GAP_MM: missing, not interpolated
    pos = np.searchsorted(cols[use], xs).clip(1, use.sum() - 1)
    near = np.minimum(np.abs(xs - cols[use][pos - 1]), np.abs(cols[use][pos] - xs))
    out[near > MAX_GAP_MM * px_per_mm] = np.nan
    return n, out


def _followed(
    tops: np.ndarray, x_from: int, row_panels: list[Panel], origins: list[float], px_per_s: float
) -> float:
    """Share of the columns the row's panels cover (gaps between panels printed apart
    left out) in which the followed chain has ink."""
    cols = np.arange(len(tops)) + x_from
    inside = np.zeros(len(tops), bool)
    for p, o in zip(row_panels, origins):
        inside |= (cols >= o + p.t0 * px_per_s) & (cols < o + p.t1 * px_per_s)
    return float(np.isfinite(tops[inside]).mean()) if inside.any() else 0.0


def _row_clocks(
    mask: np.ndarray,
    bands: list[tuple[int, int]],
    baselines: np.ndarray,
    px_per_mm: float,
    line_px: float,
) -> tuple[list[float], list[list[tuple[int, int]]], float]:
    """Each row's x (px) of t = 0, its stretches of trace and the last trace column.
    Rows end together in most prints, so their median end is 10 s; a row that ends
    elsewhere but is itself 10 s long (a rhythm strip under panels printed apart) keeps
    its own end."""
    px_per_s = MM_PER_S * px_per_mm
    gaps = np.diff(baselines)
    quarter = (float(np.median(gaps)) if len(gaps) else mask.shape[0] / 4) / 4
    cores = [mask[max(0, int(y - quarter)) : int(y + quarter) + 1] for y in baselines]
    pieces = [row_pieces(core, px_per_mm, 25.0) for core in cores]
    # halfway to the neighbours: a longer neighbour row's deflections do not end this row
    halves = [
        mask[(a + int(y)) // 2 : (int(y) + b) // 2 + 1] for (a, b), y in zip(bands, baselines)
    ]
    ends = [trace_end(half.any(axis=0), px_per_mm) - line_px / 2 for half in halves]
    common = float(np.median(ends))
    x0s = []
    for end, row in zip(ends, pieces):
        span = (row[-1][1] - row[0][0]) / (SECONDS * px_per_s) if row else 0.0
        own = abs(end - common) > ROW_END_MM * px_per_mm and abs(span - 1) < 0.04
        x0s.append((end if own else common) - (SECONDS - 1.0 / FS) * px_per_s)
    return x0s, pieces, max(ends)


def digitize_picture(
    rgb: np.ndarray,
    source: str | Path = "picture",
    rhythm: tuple[str, ...] | None = None,
    mm_per_mv: float | None = None,
) -> Digitized:
    """Read a picture of a 12-lead print (RGB uint8) into a :class:`Digitized` record.
    ``rhythm``: the rhythm-strip leads of a 3x4 print (default II; V1, II, V5 for
    three); ``mm_per_mv``: the gain when the print has no calibration pulse (10)."""
    upright, angle, paper = rectify(rgb)
    ink = separate(upright)
    mask = ink.mask
    share = float(mask.mean())
    if not MIN_INK <= share <= MAX_INK:
        raise _fail(
            source, f"{share:.2%} of it is trace ink (a print has {MIN_INK:.1%}-{MAX_INK:.0%})"
        )
    guess = coarse_px_per_mm(mask)
    if guess < 1.0:
        raise _fail(source, f"the ink is {guess * 258:.0f} px wide: too small to read")
    px_x = grid_pitch(ink.grid, 1, guess)
    px_y = grid_pitch(ink.grid, 0, px_x or guess)
    if px_x is None:
        raise _fail(source, "no ECG grid found (no 1 mm / 5 mm periodic lines): scale unknown")
    px_y = px_y or px_x
    mask = bridge_breaks(mask, px_y)
    cols = np.flatnonzero(mask.any(axis=0))
    lo, hi = (int(v) for v in np.percentile(cols, [1, 99]))
    baselines = find_rows(mask, px_y, lo, hi)
    if len(baselines) == 0:
        raise _fail(source, "no rows of trace found")
    bands = row_bands(baselines.astype(float), mask.shape[0])
    px_per_s = MM_PER_S * px_x
    line_px = line_width(column_runs(mask[bands[0][0] : bands[0][1]]))
    x0s, pieces, x_to = _row_clocks(mask, bands, baselines, px_x, line_px)
    x0 = float(np.median(x0s))
    if min(x0s) < -2 * px_x:
        raise _fail(
            source, f"the trace rows are {(x_to - lo) / px_x:.0f} mm long, not 10 s at 25 mm/s"
        )
    apart_3x4 = len(pieces) >= 3 and all(len(p) == 4 for p in pieces[:3])
    separators = apart_3x4 or has_separators(mask, bands, x0, px_per_s, px_x)
    try:
        layout, strips = choose_template(len(baselines), separators, rhythm)
    except ValueError as exc:
        raise _fail(source, str(exc)) from exc
    row_panels = [[p for p in panels(layout, strips) if p.row == r] for r in range(len(bands))]
    origins = [panel_origins(ps, pieces[r], x0s[r], px_per_s) for r, ps in enumerate(row_panels)]
    starts = [min(o) for o in origins]  # where each row's first panel begins
    gain = calibration_gain(mask, bands, baselines, starts, px_x, px_y, line_px)
    gain_source = "calibration pulse" if gain else "assumed"
    gain = gain or mm_per_mv or DEFAULT_MM_PER_MV
    signal = np.full((len(LEADS), N_SAMPLES), np.nan, np.float32)
    followed = []
    x_from = max(0, int(np.floor(min(starts))))
    x_to = min(mask.shape[1], int(np.ceil(x_to + line_px)))
    for r, ((a, b), base) in enumerate(zip(bands, baselines)):
        runs = column_runs(mask[a:b, x_from:x_to])
        tops, bots = trace_path(runs, base - a)
        followed.append(_followed(tops, x_from, row_panels[r], origins[r], px_per_s))
        values = column_values(tops, bots, line_px) + a
        for panel, origin in zip(row_panels[r], origins[r]):
            n, ys = _panel_samples(values, x_from, origin, px_per_s, panel, px_x)
            if np.isfinite(ys).sum() < 2:
                continue
            ref = np.nanmedian(ys)
            signal[panel.lead, n] = (ref - ys) / (gain * px_y)
    if np.median(followed) < MIN_FOLLOWED:
        raise _fail(
            source,
            f"the rows hold no continuous trace (ink in {np.median(followed):.0%} of the "
            f"columns of a row, a print has over {MIN_FOLLOWED:.0%})",
        )
    return Digitized(signal, layout, strips, (px_x, px_y), angle, paper, gain, gain_source)

"""Stage 5, the traces: each row column by column. The runs of ink in each pixel column
are the candidates, dynamic programming picks the chain with the smallest jumps that
stays near the row's baseline (so a tall QRS from the next row is not taken for this
one), each column's run gives one value (its centre, or its far edge at a peak). Where
the chain's run is tall (a complex, where tight rows' strokes merge into one pillar of
ink) the learned row reader (:mod:`.row_net`) says where the row's own trace is. Each
panel's samples are read at their times."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..aiwin import FS, LEADS, N_SAMPLES
from ..prints import SECONDS, Panel
from .row_net import load_reader, read_row

if TYPE_CHECKING:
    from .page import Page

BOUNDARY_MM = 0.6  # columns this close to a lead change (separator, jump) are not read
MAX_GAP_MM = 2.0  # longer stretches without ink stay missing
MIN_FOLLOWED = 0.85  # share of a row's columns a trace has ink in
BASELINE_WEIGHT = 0.02  # cost per pixel of distance from the baseline, per column
SKIP_COST = 3.0  # cost of a column where the chain takes no ink
LEARNED_ROWS = True  # steep stretches read by the learned reader (row_net) where it is there
STEEP_MM = 4.0  # a traced run this tall is a steep stroke, where rows' complexes merge
TIGHT_MM = 20.0  # rows closer than this (12x1 prints) have the learned reader's help


def column_runs(mask: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """For each column of ``mask``, the (top, bottom) pixel rows of its runs of ink,
    bottom inclusive."""
    padded = np.pad(mask, ((1, 1), (0, 0))).astype(np.int8)
    d = np.diff(padded, axis=0)
    r_start, c_start = np.nonzero(d == 1)
    r_end, c_end = np.nonzero(d == -1)
    o_s, o_e = np.lexsort((r_start, c_start)), np.lexsort((r_end, c_end))
    r_start, c_start, r_end = r_start[o_s], c_start[o_s], r_end[o_e]
    bounds = np.searchsorted(c_start, np.arange(mask.shape[1] + 1))
    return [
        (r_start[bounds[c] : bounds[c + 1]], r_end[bounds[c] : bounds[c + 1]] - 1)
        for c in range(mask.shape[1])
    ]


def trace_path(
    runs: list[tuple[np.ndarray, np.ndarray]], baseline: float
) -> tuple[np.ndarray, np.ndarray]:
    """(top, bottom) of the chosen run in every column, NaN where the chain passes a
    column by: where the trace has a gap (faded ink, a grid line taken out), passing
    costs ``SKIP_COST`` a column instead of a jump to text or another row's trace. Until
    it takes its first run the chain may wait on the baseline at the same cost: text
    beside a row's start (a header, a label) is not where the trace begins.

    Each column has a handful of candidates, so the recursion runs on Python floats
    (numpy's per-call cost on arrays this small was most of the trace stage's time)."""
    n = len(runs)
    baseline = float(baseline)
    back: list[list[int] | None] = [None] * n
    cost: list[float] = []
    prev_top: list[float] = []
    prev_bot: list[float] = []
    for c, (top_c, bot_c) in enumerate(runs):
        top, bot = top_c.tolist(), bot_c.tolist()
        if not cost:
            if not top:
                continue
            prev_top, prev_bot = [*top, baseline], [*bot, baseline]
            cost = [BASELINE_WEIGHT * abs((t + b) / 2.0 - baseline) for t, b in zip(top, bot)]
            cost.append(SKIP_COST)
            continue
        # candidates: this column's runs, then "pass by" holding the best chain's place,
        # then "not started", waiting on the baseline
        held = cost.index(min(cost))
        new_cost, came_from = [], []
        for t, b in zip(top, bot):
            best, arg = np.inf, 0
            for i, (pc, pt, pb) in enumerate(zip(cost, prev_top, prev_bot)):
                v = pc + max(0.0, t - pb, pt - b)
                if v < best:
                    best, arg = v, i
            new_cost.append(best + BASELINE_WEIGHT * abs((t + b) / 2.0 - baseline))
            came_from.append(arg)
        held_top, held_bot = prev_top[held], prev_bot[held]
        mid = (held_top + held_bot) / 2.0
        new_cost.append(cost[held] + SKIP_COST + BASELINE_WEIGHT * abs(mid - baseline))
        new_cost.append(cost[-1] + SKIP_COST)
        came_from += [held, len(cost) - 1]
        back[c], cost = came_from, new_cost
        prev_top, prev_bot = [*top, held_top, baseline], [*bot, held_bot, baseline]
    out_top, out_bot = np.full(n, np.nan), np.full(n, np.nan)
    if not cost:
        return out_top, out_bot
    k = cost.index(min(cost))
    for c in range(n - 1, -1, -1):
        top, bot = runs[c]
        if k < len(top):
            out_top[c], out_bot[c] = top[k], bot[k]
        if back[c] is None:  # the chain's first column
            break
        k = back[c][k]
    return out_top, out_bot


def column_values(tops: np.ndarray, bots: np.ndarray, line_px: float) -> np.ndarray:
    """The trace's height (pixel rows, centre of pixel i at i + 0.5) in each column: the
    centre of the run (right for flat stretches and steep strokes alike), or at a peak
    (the run's top above both neighbours' tops, or its bottom below theirs) the far edge
    less half a line width."""
    mid = (tops + bots + 1) / 2.0

    def neighbours(v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        v = np.where(np.isfinite(v), v, mid)
        return np.concatenate([[v[0]], v[:-1]]), np.concatenate([v[1:], [v[-1]]])

    tp, tn = neighbours(tops)
    bp, bn = neighbours(bots)
    up = (tops <= tp) & (tops <= tn) & ((tops < tp) | (tops < tn))
    down = (bots >= bp) & (bots >= bn) & ((bots > bp) | (bots > bn))
    y_up = tops + line_px / 2.0
    y_down = bots + 1 - line_px / 2.0
    up_wins = up & (~down | (mid - y_up >= y_down - mid))
    out = mid.copy()
    out[up_wins] = y_up[up_wins]
    down_wins = down & ~up_wins
    out[down_wins] = y_down[down_wins]
    return out


def learned_where_steep(
    traced: np.ndarray, learned: np.ndarray, run_px: np.ndarray, px_per_mm: tuple[float, float]
) -> np.ndarray:
    """Per column the learned reader's height where the traced run stands over
    ``STEEP_MM`` tall or the chain passed the column by (a complex, where neighbouring
    rows' strokes merge into one run of ink), 1 mm either side; the traced height
    elsewhere (flat stretches, where the tracer is exact and labels or pulses can draw
    the network off)."""
    px_x, px_y = px_per_mm
    steep = ~(run_px <= STEEP_MM * px_y)
    k = max(1, int(round(px_x)))
    steep = np.convolve(steep.astype(float), np.ones(2 * k + 1), "same") > 0
    return np.where(steep, learned, traced)


def line_width(runs: list[tuple[np.ndarray, np.ndarray]]) -> float:
    """The trace's thickness in pixels: the median length of single runs (flat stretches)."""
    lengths = [int(b[0] - t[0] + 1) for t, b in runs if len(t) == 1]
    return float(np.median(lengths)) if lengths else 1.0


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


def _tight(page: Page) -> bool:
    """Whether the page's rows are closer than ``TIGHT_MM``: where complexes of
    neighbouring rows merge. On wider rows the tracer alone reads better (cart 3x4 and
    6x2 prints, first 60 records: -0.1 to -0.4 dB with the learned reader's help)."""
    pitch = np.median(np.diff(page.baselines)) if len(page.baselines) > 1 else np.inf
    return bool(pitch < TIGHT_MM * page.px_per_mm[1])


def read_traces(page: Page) -> np.ndarray:
    """(12, 5000) float32 mV of every panel of the page, NaN where the print shows no
    lead; refused when the rows hold no continuous trace."""
    signal = np.full((len(LEADS), N_SAMPLES), np.nan, np.float32)
    px_x, px_y = page.px_per_mm
    starts = [min(o) for o in page.origins]
    x_from = max(0, int(np.floor(min(starts))))
    x_to = min(page.mask.shape[1], int(np.ceil(page.x_end + page.line_px)))
    net = load_reader() if LEARNED_ROWS and _tight(page) else None
    followed = []
    for r, ((a, b), base) in enumerate(zip(page.bands, page.baselines)):
        runs = column_runs(page.mask[a:b, x_from:x_to])
        tops, bots = trace_path(runs, base - a)
        row_panels, origins = page.row_panels[r], page.origins[r]
        followed.append(_followed(tops, x_from, row_panels, origins, page.px_per_s))
        values = column_values(tops, bots, page.line_px) + a
        if net is not None:
            learned = read_row(net, page.mask, base, x_from, x_to, page.px_per_mm)
            values = learned_where_steep(values, learned, bots - tops + 1, page.px_per_mm)
        for panel, origin in zip(row_panels, origins):
            n, ys = _panel_samples(values, x_from, origin, page.px_per_s, panel, px_x)
            if np.isfinite(ys).sum() >= 2:
                signal[panel.lead, n] = (np.nanmedian(ys) - ys) / (page.mm_per_mv * px_y)
    if np.median(followed) < MIN_FOLLOWED:
        raise page.fail(
            f"the rows hold no continuous trace (ink in {np.median(followed):.0%} of the "
            f"columns of a row, a print has over {MIN_FOLLOWED:.0%})"
        )
    return signal

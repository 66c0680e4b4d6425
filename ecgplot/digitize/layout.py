"""Stage 3, the layout: which print template the rows are (row count, column
separators) and where each panel's t = 0 lies (the templates: :mod:`ecgplot.prints`)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..prints import Panel, choose_template, panels
from .page import Page
from .rows import MAX_12X1_PITCH_MM
from .trace import column_runs

STROKE_MM = 3.0  # a column separator is a vertical stroke at least this long
PIECE_FIT = 0.1  # a panel printed apart is its time span wide, within this share
MIN_12X1_SHOWN = 9  # of its 12 rows a cut 12x1 picture must show
CUT_ROW_ROOM = 0.6  # pitches of picture beyond the outer row where a cut row's ink may lie
CUT_ROW_SPREAD = 0.4  # share of the 10 s (in 0.5 s steps) a cut row's complexes ink there
OUT_OF_FRAME = 0.25  # pitches: a row out of frame has its baseline no further in than this


def panel_origins(
    row_panels: list[Panel], pieces: list[tuple[int, int]], x0: float, px_per_s: float
) -> list[float]:
    """x (px) of t = 0 for each panel of a row: the row's ``x0`` where its panels abut,
    or, where the row shows one stretch of trace per panel each as wide as its time
    span, each panel's own, from where its stretch ends."""
    widths = [(p.t1 - p.t0) * px_per_s for p in row_panels]
    apart = len(row_panels) > 1 and len(pieces) == len(row_panels)
    if apart and all(abs((b - a) / w - 1) < PIECE_FIT for (a, b), w in zip(pieces, widths)):
        return [b - p.t1 * px_per_s for (_, b), p in zip(pieces, row_panels)]
    return [x0] * len(row_panels)


def longest_vertical_run(mask: np.ndarray) -> int:
    """Length of the longest run of ink down any column of ``mask``."""
    return max((int((b - t).max()) + 1 for t, b in column_runs(mask) if len(t)), default=0)


def has_separators(page: Page) -> bool:
    """Whether the first three rows have column separators (vertical strokes) at both
    2.5 s and 7.5 s, as a 3x4 print does; a 6x2 print has its lead change at 5 s."""
    px_per_mm = page.px_per_mm[0]
    half = max(1, int(round(0.6 * px_per_mm)))
    for t in (2.5, 7.5):
        x = int(round(page.x0 + t * page.px_per_s))
        hits = sum(
            longest_vertical_run(page.mask[a:b, x - half : x + half + 1]) >= STROKE_MM * px_per_mm
            for a, b in page.bands[:3]
        )
        if hits < 2:
            return False
    return True


def _spread(strip: np.ndarray) -> float:
    """Share of 20 equal stretches across ``strip`` that hold ink: a cut row's complexes
    come every beat, a header's text stands in one place."""
    if strip.size == 0:
        return 0.0
    return float(np.mean([c.any() for c in np.array_split(strip.any(axis=0), 20)]))


def cut_12x1_rows(page: Page) -> list[int]:
    """How many rows of a 12x1 print may lie above the rows found when the picture's
    frame cut the outer ones off (a close-up photo), most likely first: rows as close as
    only 12x1 prints have them, 9-11 found, and the missing ones beyond the outer rows on
    the side or sides where the picture shows a cut row's complexes; where it shows
    none (whole rows out of frame), every split of them above and below that puts their
    baselines beyond the frame. Empty when the rows are not that."""
    baselines, mask = page.baselines, page.mask
    missing = 12 - len(baselines)
    if not 1 <= missing <= 12 - MIN_12X1_SHOWN:
        return []
    pitch = float(np.median(np.diff(baselines)))
    if pitch > MAX_12X1_PITCH_MM * page.px_per_mm[1]:
        return []
    lo, hi = page.ink_cols
    top, bottom = int(baselines[0] - pitch / 2), int(baselines[-1] + pitch / 2)
    room = (CUT_ROW_ROOM - 0.5) * pitch
    cut = [
        edge >= room and _spread(strip) >= CUT_ROW_SPREAD
        for edge, strip in (
            (top, mask[: max(top, 0), lo:hi]),
            (mask.shape[0] - bottom, mask[bottom:, lo:hi]),
        )
    ]
    if cut == [True, True]:
        return [1] if missing == 2 else []
    if cut == [True, False]:
        return [missing]
    if cut == [False, True]:
        return [0]
    inside = OUT_OF_FRAME * pitch  # a missing row's baseline lies no further in than this
    return [
        k
        for k in range(missing, -1, -1)
        if (k == 0 or baselines[0] - k * pitch < inside)
        and (k == missing or baselines[-1] + (missing - k) * pitch > mask.shape[0] - inside)
    ]


def placements(page: Page, rhythm: tuple[str, ...] | None) -> list[Page]:
    """The page with its template (3x4 prints whose three rows are each printed in four
    pieces, or that show separators, are 3x4; a 12x1 print may have outer rows cut off,
    :func:`cut_12x1_rows`, their leads unread) and each panel's origin, one page for each
    way its rows can be read, most likely first (one, but for a 12x1 picture with whole
    rows out of frame); ``rhythm``: the rhythm-strip leads of a 3x4 print (None: the
    usual ones for their count)."""
    pieces = page.pieces
    apart_3x4 = len(pieces) >= 3 and all(len(p) == 4 for p in pieces[:3])
    separators = apart_3x4 or has_separators(page)
    try:
        layout, strips = choose_template(len(page.baselines), separators, rhythm)
        aboves = [0]
    except ValueError as exc:
        aboves = cut_12x1_rows(page)
        if not aboves:
            raise page.fail(str(exc)) from exc
        layout, strips = "12x1", ()
    return [_placed(page, layout, strips, above) for above in aboves]


def _placed(page: Page, layout: str, strips: tuple[str, ...], above: int) -> Page:
    """The page with ``layout``'s panels on its rows, ``above`` of them off the top."""
    row_panels = [
        [p for p in panels(layout, strips) if p.row == r + above] for r in range(len(page.bands))
    ]
    origins = [
        panel_origins(ps, page.pieces[r], page.x0s[r], page.px_per_s)
        for r, ps in enumerate(row_panels)
    ]
    return replace(page, layout=layout, rhythm=strips, row_panels=row_panels, origins=origins)

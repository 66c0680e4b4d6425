"""The page geometry the digitiser's stages pass along: what each has found so far on
one upright picture of a print, in its pixels."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..aiwin import BadInputError
from ..prints import Panel

MM_PER_S = 25.0


@dataclass(frozen=True)
class Page:
    """One upright print as the stages see it. :mod:`.scale` sets the trace ink and the
    grid's pixels per millimetre; :mod:`.rows` the trace rows, their bands, the line
    width and each row's clock; :mod:`.layout` the template and where each panel's
    t = 0 lies; :mod:`.gain` the millimetres per millivolt. Each stage returns a copy
    with its fields filled (``dataclasses.replace``)."""

    source: str | Path
    mask: np.ndarray  # trace ink of the upright picture
    px_per_mm: tuple[float, float]  # across, down
    ink_cols: tuple[int, int]  # 1st-99th percentile of the ink's columns
    baselines: np.ndarray = field(default_factory=lambda: np.zeros(0))
    bands: list[tuple[int, int]] = field(default_factory=list)  # pixel rows of each row
    line_px: float = 1.0  # the trace's thickness
    x0s: list[float] = field(default_factory=list)  # each row's x of t = 0
    pieces: list[list[tuple[int, int]]] = field(default_factory=list)  # stretches of trace
    x_end: float = 0.0  # the last trace column
    layout: str = ""
    rhythm: tuple[str, ...] = ()
    row_panels: list[list[Panel]] = field(default_factory=list)
    origins: list[list[float]] = field(default_factory=list)  # each panel's x of t = 0
    mm_per_mv: float = 0.0
    gain_source: str = ""  # "calibration pulse" or "assumed"

    @property
    def px_per_s(self) -> float:
        return MM_PER_S * self.px_per_mm[0]

    @property
    def x0(self) -> float:
        """The rows' common x of t = 0."""
        return float(np.median(self.x0s))

    def fail(self, problem: str) -> BadInputError:
        """The error for a picture that is not a readable print, naming it."""
        return unreadable(self.source, problem)


def upside_down(page: Page) -> Page:
    """A page of the scale stage turned 180 degrees: the same ink and grid pitch."""
    width = page.mask.shape[1]
    lo, hi = page.ink_cols
    mask = np.ascontiguousarray(page.mask[::-1, ::-1])
    return Page(page.source, mask, page.px_per_mm, (width - 1 - hi, width - 1 - lo))


def unreadable(source: str | Path, problem: str) -> BadInputError:
    return BadInputError(source, f"not a readable ECG print: {problem}")

"""A picture of a 12-lead print read back into a record, stage by stage: rectify, the
scale, the rows, the layout, the gain, the traces (one module each, passing a
:class:`~.page.Page`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .gain import read_gain
from .layout import place_panels
from .rectify import rectify
from .rows import find_trace_rows
from .scale import measure_scale
from .trace import read_traces


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


def digitize_picture(
    rgb: np.ndarray,
    source: str | Path = "picture",
    rhythm: tuple[str, ...] | None = None,
    mm_per_mv: float | None = None,
) -> Digitized:
    """Read a picture of a 12-lead print (RGB uint8) into a :class:`Digitized` record.
    ``rhythm``: the rhythm-strip leads of a 3x4 print (default II; V1, II, V5 for
    three); ``mm_per_mv``: the gain when the print has no calibration pulse (10). A
    picture that is not a readable print is a BadInputError naming ``source``."""
    upright, angle, paper = rectify(rgb)
    page = measure_scale(upright, source)
    page = find_trace_rows(page)
    page = place_panels(page, rhythm)
    page = read_gain(page, mm_per_mv)
    signal = read_traces(page)
    return Digitized(
        signal,
        page.layout,
        page.rhythm,
        page.px_per_mm,
        angle,
        paper,
        page.mm_per_mv,
        page.gain_source,
    )

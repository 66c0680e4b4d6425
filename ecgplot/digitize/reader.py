"""A picture of a 12-lead print read back into a record, stage by stage: rectify, the
scale, the rows, the layout, the gain, the traces (one module each, passing a
:class:`~.page.Page`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..aiwin import BadInputError
from .gain import read_gain
from .layout import place_panels
from .orientation import CLEAR_MISFIT, limb_misfit, turn_order, upright_choice
from .page import Page, unreadable, upside_down
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
    rotation_deg: float  # how far the print is turned counter-clockwise, (-180, 180]
    paper_found: bool
    mm_per_mv: float
    gain_source: str  # "calibration pulse" or "assumed"
    orientation_source: str = ""  # limb leads, calibration pulses, only reading (orientation.py)

    @property
    def printed(self) -> np.ndarray:
        """(12, 5000) bool: the samples the print shows."""
        return np.isfinite(self.signal)


def read_page(
    page: Page, rhythm: tuple[str, ...] | None, mm_per_mv: float | None
) -> tuple[Page, np.ndarray]:
    """The stages after the scale, on a page the right way up: the page they found and
    the (12, 5000) signal read from it."""
    page = find_trace_rows(page)
    page = place_panels(page, rhythm)
    page = read_gain(page, mm_per_mv)
    return page, read_traces(page)


def _scaled_turns(upright: np.ndarray, source: str | Path, turns: list[int]):
    """(turn, scaled page or the scale stage's error) for each quarter turn: the scale
    is measured once an axis, its upside-down page is the same page turned."""
    scaled: dict[int, Page | BadInputError] = {}
    for k in turns:
        axis = k % 2
        if axis not in scaled:
            try:
                scaled[axis] = measure_scale(np.ascontiguousarray(np.rot90(upright, axis)), source)
            except BadInputError as exc:
                scaled[axis] = exc
        page = scaled[axis]
        yield k, upside_down(page) if k >= 2 and isinstance(page, Page) else page


@dataclass(frozen=True)
class PrintReading:
    """A picture read: the record, the picture as it was read (rectified, upright) and
    the page geometry found on it (rows, panels, scale), to show what was read where."""

    digitized: Digitized
    picture: np.ndarray
    page: Page


def read_print(
    rgb: np.ndarray,
    source: str | Path = "picture",
    rhythm: tuple[str, ...] | None = None,
    mm_per_mv: float | None = None,
) -> PrintReading:
    """:func:`digitize_picture`, keeping the upright picture and its page geometry."""
    upright, angle, paper = rectify(rgb)
    turns = turn_order(upright)
    readings, misfits, refused = {}, {}, []
    for k, page in _scaled_turns(upright, source, turns):
        try:
            if isinstance(page, BadInputError):
                raise page
            readings[k] = read_page(page, rhythm, mm_per_mv)
        except BadInputError as exc:
            refused.append(exc)
            continue
        misfits[k] = limb_misfit(readings[k][1])
        if misfits[k] <= CLEAR_MISFIT:
            break
    if not readings:
        raise refused[0]
    pulses = {k: page.gain_source == "calibration pulse" for k, (page, _) in readings.items()}
    choice = upright_choice(misfits, pulses)
    if choice is None:
        told = ", ".join(f"{90 * k} degrees: {m:.2f}" for k, m in misfits.items())
        raise unreadable(
            source,
            "which way up it is cannot be told (the limb leads' misfit to Einthoven's law, "
            f"read turned {told}; an upright reading fits under {CLEAR_MISFIT}; calibration "
            "pulses found both ways or neither)",
        )
    turn, why = choice
    page, signal = readings[turn]
    picture = np.ascontiguousarray(np.rot90(upright, turn))
    rotation = (angle - 90.0 * turn + 180.0) % 360.0 - 180.0
    rotation = 180.0 if rotation == -180.0 else rotation
    got = Digitized(
        signal,
        page.layout,
        page.rhythm,
        page.px_per_mm,
        rotation,
        paper,
        page.mm_per_mv,
        page.gain_source,
        why,
    )
    return PrintReading(got, picture, page)


def digitize_picture(
    rgb: np.ndarray,
    source: str | Path = "picture",
    rhythm: tuple[str, ...] | None = None,
    mm_per_mv: float | None = None,
) -> Digitized:
    """Read a picture of a 12-lead print (RGB uint8), turned any way, into a
    :class:`Digitized` record. ``rhythm``: the rhythm-strip leads of a 3x4 print
    (default II; V1, II, V5 for three); ``mm_per_mv``: the gain when the print has no
    calibration pulse (10). A picture that is not a readable print, or whose way up
    cannot be told, is a BadInputError naming ``source``."""
    return read_print(rgb, source, rhythm, mm_per_mv).digitized

"""A picture of a 12-lead print read back into a record, stage by stage: rectify, the
scale, the rows, the layout, the gain, the traces (one module each, passing a
:class:`~.page.Page`); once the way up is told, limb-lead samples that contradict the
other limb leads are read again from them (:mod:`.limbs`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..aiwin import BadInputError
from .gain import read_gain
from .layout import placements
from .limbs import project_limb_leads, repair_limb_leads
from .orientation import (
    CLEAR_MISFIT,
    CLEAR_ORDER,
    beat_order,
    limb_misfit,
    turn_order,
    upright_choice,
)
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
    orientation_source: str = ""  # limb leads, calibration pulses, beat order, only reading
    limb_samples_reread: int = 0  # limb-lead samples read again from the others (limbs.py)

    @property
    def printed(self) -> np.ndarray:
        """(12, 5000) bool: the samples the print shows."""
        return np.isfinite(self.signal)


def read_page(
    page: Page, rhythm: tuple[str, ...] | None, mm_per_mv: float | None
) -> tuple[Page, np.ndarray]:
    """The stages after the scale, on a page the right way up: the page they found and
    the (12, 5000) signal read from it. Where its rows can be read more than one way (a
    12x1 picture with whole rows out of frame), the reading whose limb leads fit
    Einthoven's law best."""
    page = find_trace_rows(page)
    readings = []
    for placed in placements(page, rhythm):
        placed = read_gain(placed, mm_per_mv)
        readings.append((placed, read_traces(placed)))
    if len(readings) == 1:
        return readings[0]
    return min(readings, key=lambda reading: np.nan_to_num(limb_misfit(reading[1]), nan=np.inf))


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


def _read_scaled(
    page: Page | BadInputError, rhythm: tuple[str, ...] | None, mm_per_mv: float | None
) -> tuple[Page, np.ndarray]:
    """:func:`read_page` on a page of :func:`_scaled_turns`; its scale stage's error."""
    if isinstance(page, BadInputError):
        raise page
    return read_page(page, rhythm, mm_per_mv)


@dataclass(frozen=True)
class PrintReading:
    """A picture read: the record, the picture as it was read (rectified, upright) and
    the page geometry found on it (rows, panels, scale), to show what was read where."""

    digitized: Digitized
    picture: np.ndarray
    page: Page


TRIED_TURNS = (0, 1, 3, 2)  # quarter turns a picture is rectified at, in turn, until one reads


@dataclass(frozen=True)
class _Told:
    """A reading: the quarter turns the picture was given before rectifying (``pre``)
    and after (``turn``), why that way up, the rectified picture and what rectify found."""

    pre: int
    turn: int
    why: str
    page: Page
    signal: np.ndarray
    upright: np.ndarray
    angle: float
    paper: bool

    @property
    def total(self) -> int:
        """Quarter turns, counter-clockwise, from the picture as given to upright."""
        return (self.pre + self.turn) % 4


def _tell_turn(rgb: np.ndarray, source: str | Path, rhythm, mm_per_mv, pre: int) -> _Told:
    """Rectify ``rgb`` turned ``pre`` quarters, then read its turns, most likely first,
    until one is clearly upright; the upright reading by
    :func:`~.orientation.upright_choice`."""
    upright, angle, paper = rectify(np.ascontiguousarray(np.rot90(rgb, pre)))
    readings, misfits, refused = {}, {}, []
    for k, page in _scaled_turns(upright, source, turn_order(upright)):
        try:
            readings[k] = _read_scaled(page, rhythm, mm_per_mv)
        except BadInputError as exc:
            refused.append(exc)
            continue
        misfits[k] = limb_misfit(readings[k][1])
        if misfits[k] <= CLEAR_MISFIT:
            break
    if not readings:
        raise refused[0]
    pulses = {k: page.gain_source == "calibration pulse" for k, (page, _) in readings.items()}
    orders = {}
    if not any(m <= CLEAR_MISFIT for m in misfits.values()):
        orders = {k: beat_order(signal) for k, (_, signal) in readings.items()}
    choice = upright_choice(misfits, pulses, as_given=-pre % 4, orders=orders)
    if choice is None:
        told = ", ".join(f"{90 * k} degrees: {m:.2f}" for k, m in misfits.items())
        beats = ", ".join(f"{90 * k} degrees: {v:+.1f}" for k, v in orders.items())
        raise unreadable(
            source,
            "which way up it is cannot be told (the limb leads' misfit to Einthoven's law, "
            f"read turned {told}; an upright reading fits under {CLEAR_MISFIT}; calibration "
            f"pulses found both ways or neither; the beats' order, T wave after QRS, {beats}: "
            f"one way at +{CLEAR_ORDER:.0f} or more and the other at -{CLEAR_ORDER:.0f} or "
            "less tells it)",
        )
    turn, why = choice
    page, signal = readings[turn]
    return _Told(pre, turn, why, page, signal, upright, angle, paper)


def _told_turn(rgb: np.ndarray, source: str | Path, rhythm, mm_per_mv) -> _Told:
    """The reading that tells which way up ``rgb`` is. Where every turn of the rectified
    picture is refused, or the way up is not told, the picture is turned each of
    ``TRIED_TURNS`` before rectifying (rectifying a cart's close-up or tight rows can
    fail one way round and not another); the first error when no way round tells it."""
    errors = []
    for pre in TRIED_TURNS:
        try:
            return _tell_turn(rgb, source, rhythm, mm_per_mv, pre)
        except BadInputError as exc:
            errors.append(exc)
    raise errors[0]


def _read_upright(rgb: np.ndarray, told: _Told, source: str | Path, rhythm, mm_per_mv) -> _Told:
    """Read ``rgb`` turned upright (``told.total`` quarters): rectified as it then
    stands, or where that is refused turned each of ``TRIED_TURNS`` before rectifying
    and turned back after (the way round ``told`` was read from is ``told`` itself); the
    first error when every try is refused."""
    refused = []
    for s in TRIED_TURNS:
        pre, turn = (told.total + s) % 4, -s % 4
        if pre == told.pre:
            return told
        upright, angle, paper = rectify(np.ascontiguousarray(np.rot90(rgb, pre)))
        _, page = next(_scaled_turns(upright, source, [turn]))
        try:
            page, signal = _read_scaled(page, rhythm, mm_per_mv)
        except BadInputError as exc:
            refused.append(exc)
            continue
        return _Told(pre, turn, told.why, page, signal, upright, angle, paper)
    raise refused[0]


def read_print(
    rgb: np.ndarray,
    source: str | Path = "picture",
    rhythm: tuple[str, ...] | None = None,
    mm_per_mv: float | None = None,
) -> PrintReading:
    """:func:`digitize_picture`, keeping the upright picture and its page geometry. Once
    the way up is told, a picture that was not read as given is turned upright and read
    again (:func:`_read_upright`: rectifying a turned picture is not the same, in its
    grid tiles and fine angle), so that a turned picture reads as the upright one does."""
    told = _told_turn(rgb, source, rhythm, mm_per_mv)
    if told.pre or told.turn:
        told = _read_upright(rgb, told, source, rhythm, mm_per_mv)
    page = told.page
    signal, reread = repair_limb_leads(told.signal)
    signal = project_limb_leads(signal)
    picture = np.ascontiguousarray(np.rot90(told.upright, told.turn))
    rotation = (told.angle - 90.0 * told.total + 180.0) % 360.0 - 180.0
    rotation = 180.0 if rotation == -180.0 else rotation
    got = Digitized(
        signal,
        page.layout,
        page.rhythm,
        page.px_per_mm,
        rotation,
        told.paper,
        page.mm_per_mv,
        page.gain_source,
        told.why,
        reread,
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

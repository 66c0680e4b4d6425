"""A folder of pictures of prints to a folder of records and a report.

Every entry of the folder gets a line in the report: a picture read (``ok``), a picture
that is not a readable print (``unreadable``, with why), or a file the project does not
read as a picture (``skipped``, with why). A PDF's pages are pictures of their own,
``NAME_p1``, ``NAME_p2``... (a one-page PDF is ``NAME``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from ..aiwin import SIGNAL_FORMATS, BadInputError, write_signal
from ..atomic import atomic_path
from ..pictures import list_pictures, read_pages, skipped_files
from .reader import Digitized, digitize_picture

log = logging.getLogger(__name__)
REPORT = "digitize_report.csv"


@dataclass(frozen=True)
class Reading:
    """One picture (or PDF page) of a folder and what became of it."""

    name: str  # the record name it answers for
    path: Path
    got: Digitized | None
    status: str = "ok"  # ok, unreadable or skipped
    problem: str = ""


def picture_names(folder: str | Path) -> dict[str, Path]:
    """Picture files of a folder by record name (file stem); two files with one stem are
    bad input, since both would answer for the same record."""
    names: dict[str, Path] = {}
    for path in list_pictures(folder):
        if path.stem in names:
            raise BadInputError(path, f"has the same name as {names[path.stem].name}")
        names[path.stem] = path
    return names


def report_row(reading: Reading) -> dict:
    """One line of the digitise report: what was found, or why the picture was refused
    or the file skipped."""
    row = dict(name=reading.name, file=reading.path.name, status=reading.status)
    got = reading.got
    if got is None:
        return row | dict(problem=reading.problem)
    return row | dict(
        layout=got.layout,
        rhythm=" ".join(got.rhythm),
        px_per_mm_x=round(got.px_per_mm[0], 3),
        px_per_mm_y=round(got.px_per_mm[1], 3),
        rotation_deg=round(got.rotation_deg, 2),
        orientation_from=got.orientation_source,
        paper_edges=got.paper_found,
        mm_per_mv=got.mm_per_mv,
        gain_from=got.gain_source,
        printed_share=round(float(got.printed.mean()), 3),
        limb_samples_reread=got.limb_samples_reread,
        problem="",
    )


def _pages(name: str, path: Path) -> list[tuple[str, np.ndarray]]:
    """(record name, RGB) of each page of a picture file."""
    pages = read_pages(path)
    if len(pages) == 1:
        return [(name, pages[0])]
    return [(f"{name}_p{k}", rgb) for k, rgb in enumerate(pages, start=1)]


def _refused(name: str, path: Path, exc: BadInputError, skip_bad: bool) -> Reading:
    if not skip_bad:
        raise exc
    log.warning("unreadable: %s", exc)
    return Reading(name, path, None, "unreadable", exc.problem)


def digitize_pictures(
    folder: str | Path,
    skip_bad: bool = False,
    rhythm: tuple[str, ...] | None = None,
    mm_per_mv: float | None = None,
) -> Iterator[Reading]:
    """A :class:`Reading` of every picture and PDF page of ``folder``, then one for each
    file skipped. An unreadable picture stops with its error unless ``skip_bad``."""
    names = picture_names(folder)
    for name, path in tqdm(names.items(), desc="digitise", disable=None):
        try:
            pages = _pages(name, path)
        except BadInputError as exc:
            yield _refused(name, path, exc, skip_bad)
            continue
        for page_name, rgb in pages:
            try:
                if page_name != name and page_name in names:
                    raise BadInputError(path, f"its page {page_name} has another file's name")
                yield Reading(page_name, path, digitize_picture(rgb, path, rhythm, mm_per_mv))
            except BadInputError as exc:
                yield _refused(page_name, path, exc, skip_bad)
    for path, why in skipped_files(folder).items():
        log.info("skipped %s: %s", path, why)
        yield Reading(path.stem, path, None, "skipped", why)


def write_report(readings: list[Reading], folder: Path) -> pd.DataFrame:
    """``folder/digitize_report.csv`` of the readings (atomically); the table."""
    report = pd.DataFrame([report_row(r) for r in readings])
    with atomic_path(folder / REPORT) as tmp:
        report.to_csv(tmp, index=False)
    return report


def digitized_names(folder: str | Path) -> set[str]:
    """Records of ``folder`` that :func:`digitize_folder` wrote (its report lists them
    as read): they may have NaN where the print showed nothing; others may not."""
    report = Path(folder) / REPORT
    if not report.is_file():
        return set()
    try:
        table = pd.read_csv(report, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise BadInputError(report, f"not a readable digitise report ({exc})") from None
    if not {"name", "status"} <= set(table.columns):
        raise BadInputError(report, "a digitise report needs name and status columns")
    return set(table.loc[table.status == "ok", "name"])


def digitize_folder(
    images: str | Path,
    out: str | Path,
    skip_bad: bool = False,
    rhythm: tuple[str, ...] | None = None,
    mm_per_mv: float | None = None,
    fmt: str = "mat",
) -> pd.DataFrame:
    """Digitise every picture of ``images`` into ``out/NAME`` in ``fmt`` (one of
    ``SIGNAL_FORMATS``: AIWIN MAT, WFDB or CSV; NaN where the print does not show a
    lead) and write ``out/digitize_report.csv``."""
    if fmt not in SIGNAL_FORMATS:
        raise ValueError(f"unknown format {fmt!r}; choose from {SIGNAL_FORMATS}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    readings = []
    for reading in digitize_pictures(images, skip_bad, rhythm, mm_per_mv):
        if reading.got is not None:
            write_signal(out / reading.name, reading.got.signal, fmt)
        readings.append(reading)
    report = write_report(readings, out)
    ok = int((report.status == "ok").sum())
    log.info("digitised %d of %d pictures into %s", ok, len(report), out)
    return report

"""A folder of pictures of prints to a folder of AIWIN records and a report."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
from tqdm import tqdm

from ..aiwin import BadInputError, write_record
from ..atomic import atomic_path
from ..pictures import list_pictures, read_picture
from .reader import Digitized, digitize_picture

log = logging.getLogger(__name__)
REPORT = "digitize_report.csv"


def picture_names(folder: str | Path) -> dict[str, Path]:
    """Pictures of a folder by record name (file stem); two files with one stem are bad
    input, since both would answer for the same record."""
    names: dict[str, Path] = {}
    for path in list_pictures(folder):
        if path.stem in names:
            raise BadInputError(path, f"has the same name as {names[path.stem].name}")
        names[path.stem] = path
    return names


def report_row(name: str, path: Path, got: Digitized | None, problem: str = "") -> dict:
    """One line of the digitise report: what was found, or why the picture was refused."""
    if got is None:
        return dict(name=name, file=path.name, status="unreadable", problem=problem)
    return dict(
        name=name,
        file=path.name,
        status="ok",
        layout=got.layout,
        rhythm=" ".join(got.rhythm),
        px_per_mm_x=round(got.px_per_mm[0], 3),
        px_per_mm_y=round(got.px_per_mm[1], 3),
        rotation_deg=round(got.rotation_deg, 2),
        paper_edges=got.paper_found,
        mm_per_mv=got.mm_per_mv,
        gain_from=got.gain_source,
        printed_share=round(float(got.printed.mean()), 3),
        problem="",
    )


def digitize_pictures(
    folder: str | Path,
    skip_bad: bool = False,
    rhythm: tuple[str, ...] | None = None,
    mm_per_mv: float | None = None,
) -> Iterator[tuple[str, Path, Digitized | None, str]]:
    """(name, path, digitised record or None, problem) for every picture of ``folder``.
    An unreadable picture stops with its error unless ``skip_bad``."""
    for name, path in tqdm(picture_names(folder).items(), desc="digitise", disable=None):
        try:
            got = digitize_picture(read_picture(path), path, rhythm, mm_per_mv)
        except BadInputError as exc:
            if not skip_bad:
                raise
            log.warning("unreadable: %s", exc)
            yield name, path, None, exc.problem
            continue
        yield name, path, got, ""


def digitize_folder(
    images: str | Path,
    out: str | Path,
    skip_bad: bool = False,
    rhythm: tuple[str, ...] | None = None,
    mm_per_mv: float | None = None,
) -> pd.DataFrame:
    """Digitise every picture of ``images`` into ``out/NAME.mat`` (AIWIN ``ecgdata``,
    NaN where the print does not show a lead) and write ``out/digitize_report.csv``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for name, path, got, problem in digitize_pictures(images, skip_bad, rhythm, mm_per_mv):
        if got is not None:
            write_record(out / f"{name}.mat", got.signal, missing_ok=True)
        rows.append(report_row(name, path, got, problem))
    report = pd.DataFrame(rows)
    with atomic_path(out / REPORT) as tmp:
        report.to_csv(tmp, index=False)
    ok = int((report.status == "ok").sum())
    log.info("digitised %d of %d pictures into %s", ok, len(report), out)
    return report

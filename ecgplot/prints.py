"""Paper-print layouts as data: which lead a cart prints where and when.

One table of templates (``TEMPLATES``) serves the digitiser's layout stage (a picture's
row count and column separators pick a template), the print-aware training copies
(:func:`mask_as_print`: what a print of a record shows) and the tests. A new cart format
is a new row of the table, not new code.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .aiwin import FS, LEADS, N_SAMPLES

SECONDS = 10.0  # a print shows 10 s at 25 mm/s

GRID_3X4 = (("I", "aVR", "V1", "V4"), ("II", "aVL", "V2", "V5"), ("III", "aVF", "V3", "V6"))
GRID_6X2 = (("I", "V1"), ("II", "V2"), ("III", "V3"), ("aVR", "V4"), ("aVL", "V5"), ("aVF", "V6"))


@dataclass(frozen=True)
class Panel:
    """One printed stretch of one lead: its row, lead index and seconds [t0, t1)."""

    row: int
    lead: int
    t0: float
    t1: float


@dataclass(frozen=True)
class Template:
    """A print layout: ``grid`` rows of leads, each row's leads sharing the 10 s equally
    (4 a row: 2.5 s each), then ``strips`` leads each printed as a 10 s row; whether
    its columns are parted by separator strokes (3x4 prints)."""

    name: str
    grid: tuple[tuple[str, ...], ...]
    separators: bool
    strips: int = 0  # how many rhythm strips a print of this template has

    @property
    def rows(self) -> int:
        return len(self.grid) + self.strips


TEMPLATES: tuple[Template, ...] = (
    Template("3x4", GRID_3X4, separators=True, strips=0),
    Template("3x4", GRID_3X4, separators=True, strips=1),
    Template("3x4", GRID_3X4, separators=True, strips=2),
    Template("3x4", GRID_3X4, separators=True, strips=3),
    Template("6x2", GRID_6X2, separators=False),
    Template("12x1", tuple((lead,) for lead in LEADS), separators=False),
)
LAYOUT_NAMES = tuple(dict.fromkeys(t.name for t in TEMPLATES))
RHYTHM_DEFAULT = {0: (), 1: ("II",), 2: ("II", "V1"), 3: ("V1", "II", "V5")}


def template(name: str) -> Template:
    """The (first) template of a layout name."""
    for t in TEMPLATES:
        if t.name == name:
            return t
    raise ValueError(f"unknown layout {name!r} (known: {', '.join(LAYOUT_NAMES)})")


def panels(layout: str, rhythm: tuple[str, ...] = ()) -> list[Panel]:
    """The panels of a layout, row by row, with ``rhythm`` as its 10 s strips: in a 3x4
    print column c is seconds 2.5c to 2.5c + 2.5."""
    grid = template(layout).grid
    rows = [
        [(lead, SECONDS * c / len(r), SECONDS * (c + 1) / len(r)) for c, lead in enumerate(r)]
        for r in grid
    ]
    rows += [[(lead, 0.0, SECONDS)] for lead in rhythm]
    return [
        Panel(r, LEADS.index(lead), t0, t1) for r, row in enumerate(rows) for lead, t0, t1 in row
    ]


def choose_template(
    n_rows: int, separators: bool, rhythm: tuple[str, ...] | None = None
) -> tuple[str, tuple[str, ...]]:
    """(layout, rhythm-strip leads) of a print with ``n_rows`` trace rows, with or without
    column separators; the strips' leads are ``rhythm`` or the usual ones for their count.
    A template without separators wins where both fit (a 6x2 print, not 3x4 + 3 strips,
    unless separators are seen)."""
    fits = [t for t in TEMPLATES if t.rows == n_rows]
    fits.sort(key=lambda t: t.separators != separators)
    if not fits:
        raise ValueError(
            f"found {n_rows} trace rows; readable layouts are 3x4 with 0-3 rhythm "
            "strips (3-6 rows), 6x2 (6 rows) and 12x1 (12 rows)"
        )
    best = fits[0]
    if best.strips == 0:
        return best.name, ()
    strips = rhythm if rhythm is not None else RHYTHM_DEFAULT[best.strips]
    if len(strips) != best.strips:
        raise ValueError(
            f"the {best.name} print has {best.strips} rhythm strips but "
            f"{len(strips)} rhythm leads were given ({', '.join(strips) or 'none'})"
        )
    return best.name, tuple(strips)


def printed_mask(layout: str = "3x4", rhythm: tuple[str, ...] = ("II",)) -> np.ndarray:
    """(12, 5000) bool: the samples a print in ``layout`` shows (3x4 + lead II: 2.5 s of
    each lead at its column's time and lead II's 10 s)."""
    shown = np.zeros((len(LEADS), N_SAMPLES), bool)
    for p in panels(layout, rhythm):
        shown[p.lead, int(round(p.t0 * FS)) : int(round(p.t1 * FS))] = True
    return shown


def print_layouts(value: str | list[str] | tuple[str, ...] | None) -> tuple[str, ...]:
    """A config's print layout(s) (one name or a list) as a tuple; none for ``None``."""
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)


def mask_as_print(signal: np.ndarray, layout: str = "3x4") -> np.ndarray:
    """``signal`` (12, n) with what a ``layout`` print does not show set to NaN (the
    print-aware training copies); a print shows 10 s, so a longer record keeps its first
    10 s and a shorter one what the print would show of it."""
    shown = printed_mask(layout, RHYTHM_DEFAULT[1] if layout == "3x4" else ())
    n = min(signal.shape[-1], N_SAMPLES)
    return np.where(shown[:, :n], signal[:, :n], np.nan).astype(np.float32)

"""Print layouts as data (``ecgplot.prints``): templates picked by what a picture shows."""

from __future__ import annotations

import pytest

from ecgplot.prints import TEMPLATES, choose_template, printed_mask


@pytest.mark.parametrize(
    ("rows", "separators", "expected"),
    [
        (3, True, ("3x4", ())),
        (4, False, ("3x4", ("II",))),
        (5, True, ("3x4", ("II", "V1"))),
        (6, True, ("3x4", ("V1", "II", "V5"))),
        (6, False, ("6x2", ())),
        (12, False, ("12x1", ())),
    ],
)
def test_a_template_is_chosen_by_row_count_and_separators(rows, separators, expected):
    assert choose_template(rows, separators) == expected


def test_rows_no_template_has_are_refused_with_the_count():
    with pytest.raises(ValueError, match="found 7 trace rows"):
        choose_template(7, False)
    with pytest.raises(ValueError, match="1 rhythm strips but 2 rhythm leads"):
        choose_template(4, True, ("II", "V5"))


def test_every_template_shows_each_lead_its_panel_and_strips_ten_seconds():
    leads = ("I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6")
    panel_s = {"3x4": 2.5, "6x2": 5.0, "12x1": 10.0}
    for t in TEMPLATES:
        strips = ("V1", "II", "V5")[: t.strips]
        seconds = printed_mask(t.name, strips).sum(axis=1) / 500
        for lead, s in zip(leads, seconds):
            assert s == pytest.approx(10.0 if lead in strips else panel_s[t.name]), (t, lead)

"""The digitiser on pictures of real records drawn by an independent program
(drawers/printsim.py: matplotlib, no ecgplot code), never on the project's own renders."""

from __future__ import annotations

import subprocess
import sys

import cv2
import numpy as np
import pandas as pd
import pytest
import skimage.data

from drawers import cart, otherdraw
from drawers.printsim import TRACE_X0_MM, PrintStyle, draw_print, photograph, rotate_page
from ecgplot.aiwin import LEADS, BadInputError, read_record
from ecgplot.digitize import digitize_picture
from ecgplot.digitize.quality import record_snr
from ecgplot.physionet import list_source
from ecgplot.signal import r_peaks
from tests.conftest import FIXTURE_DATA, ROOT


@pytest.fixture(scope="module")
def records() -> dict[str, np.ndarray]:
    """The 23 committed fixture records, (12, 5000) mV, by name."""
    return {rec.name: rec.signal for rec in (src.load() for src in list_source(FIXTURE_DATA))}


def _snr(signal, got, page) -> np.ndarray:
    return record_snr(signal, got.signal, page.printed)


@pytest.mark.parametrize(
    ("dpi", "degrees", "grid"), [(100.0, 0.0, "pink"), (160.0, 2.5, "blue"), (220.0, -4.0, "grey")]
)
def test_pitch_and_rotation_on_prints_of_known_geometry(records, dpi, degrees, grid):
    page = draw_print(records["00001_hr"], PrintStyle(dpi=dpi, grid=grid))
    picture = rotate_page(page.image, degrees)  # counter-clockwise for positive degrees
    got = digitize_picture(picture, "known.png")
    px_x, px_y = got.px_per_mm
    assert abs(px_x / page.px_per_mm - 1) < 0.02
    assert abs(px_y / page.px_per_mm - 1) < 0.02
    assert abs(got.rotation_deg - degrees) < 0.5


@pytest.mark.parametrize(
    ("style", "layout", "rhythm", "shown"),
    [
        (PrintStyle(layout="3x4", rhythm=("II",)), "3x4", ("II",), 0.3125),
        (
            PrintStyle(layout="3x4", rhythm=("V1", "II", "V5"), grid="green"),
            "3x4",
            ("V1", "II", "V5"),
            0.4375,
        ),
        (PrintStyle(layout="6x2", grid="red", minor_grid=False), "6x2", (), 0.5),
        (PrintStyle(layout="12x1", mm_per_mv=5.0, grid="orange"), "12x1", (), 1.0),
    ],
)
def test_each_layout_found_with_its_leads_at_their_times(records, style, layout, rhythm, shown):
    signal = records["00003_hr"]
    page = draw_print(signal, style)
    got = digitize_picture(page.image, "print.png")
    assert (got.layout, got.rhythm) == (layout, rhythm)
    assert got.mm_per_mv == style.mm_per_mv and got.gain_source == "calibration pulse"
    # the samples read are the ones printed (3x4: lead I at 0-2.5 s, aVR at 2.5-5 s, ...),
    # but for the few columns at a lead change
    agree = (got.printed == page.printed).mean()
    assert agree > 0.99
    assert abs(got.printed.mean() - shown) < 0.01
    assert np.median(_snr(signal, got, page)) > 12


def test_snr_floor_on_clean_prints_of_every_fixture_record(records):
    medians = []
    for i, (name, signal) in enumerate(sorted(records.items())):
        style = PrintStyle(layout=("3x4", "6x2", "12x1")[i % 3], dpi=150.0)
        style = style if style.layout != "12x1" else PrintStyle(layout="12x1", mm_per_mv=5.0)
        page = draw_print(signal, style)
        medians.append(np.median(_snr(signal, digitize_picture(page.image, name), page)))
    assert np.median(medians) > 14
    assert min(medians) > 6


def test_a_qrs_running_into_the_next_row_is_not_taken_for_that_row(records):
    """12x1 at 10 mm/mV: rows 15 mm apart, and V2's 3.6 mV QRS reaches past V3's and
    V4's baselines. Away from the QRS complexes every row must follow its own lead, far
    closer to it than to the leads printed beside it; where two strokes overlap the
    columns are shared, so the crossing rows lose QRS detail (a lower SNR floor)."""
    signal = records["00008_hr"]
    page = draw_print(signal, PrintStyle(layout="12x1", mm_per_mv=10.0, dpi=150.0))
    pitch_mm = (215.9 - 30.0 - 16.0) / 11
    excursion = np.abs(signal - np.median(signal, axis=1, keepdims=True)).max(axis=1) * 10.0
    crossing = np.flatnonzero(excursion > pitch_mm)
    assert len(crossing) >= 2  # the print does what the test says
    got = digitize_picture(page.image, "tall.png").signal
    snr = record_snr(signal, got, page.printed)
    assert np.median(snr) > 12
    affected = sorted({j for i in crossing for j in (i - 1, i, i + 1) if 0 <= j < 12})
    assert snr[affected].min() > 4
    calm = np.ones(signal.shape[1], bool)
    for peak in r_peaks(signal[1], 500):
        calm[max(0, peak - 40) : peak + 40] = False

    def rms(i: int, j: int) -> float:
        a, b = got[i, calm], signal[j, calm]
        return float(np.sqrt(np.mean(((a - np.median(a)) - (b - np.median(b))) ** 2)))

    for i in affected:
        assert rms(i, i) < 0.03  # mV
        assert all(rms(i, i) < 0.5 * rms(i, j) for j in (i - 1, i + 1) if 0 <= j < 12)


@pytest.mark.parametrize("condition", ["colour scan", "b/w scan", "phone photo"])
def test_scans_and_photos_of_a_3x4_print(records, condition):
    rng = np.random.default_rng(7)
    snrs = []
    for name in ("00002_hr", "A0689", "JS03291"):
        signal = records[name]
        page = draw_print(signal, PrintStyle(dpi=200.0, grid="pink"))
        got = digitize_picture(photograph(page.image, condition, rng), name)
        assert got.layout == "3x4"
        assert got.paper_found == (condition == "phone photo")
        snrs.append(np.median(_snr(signal, got, page)))
    assert np.median(snrs) > (8 if condition == "phone photo" else 11)


def test_a_trace_starting_faint_under_the_header_is_not_read_from_the_header(records):
    """The first 1.5 mm of the top row's trace faded off the paper (a pen settling, a
    worn cartridge): the row's first ink is then the header line 22 mm above it. Lead I
    must wait for its trace, not start on the header and fall 2 mV to the baseline."""
    for name in ("A0689", "E00271", "E01137", "HR06001", "00001_hr", "00170_hr"):
        signal = records[name]
        page = draw_print(signal, PrintStyle(layout="3x4", dpi=150.0))
        image = page.image.copy()
        px = page.px_per_mm
        baseline, x0 = int(round(30.0 * px)), int(round(TRACE_X0_MM * px))  # row 0, 30 mm down
        image[baseline - int(15 * px) : baseline + int(15 * px), x0 - 2 : x0 + int(1.5 * px)] = 255
        got = digitize_picture(image, name)
        read = got.signal[0, :60] - np.nanmedian(got.signal[0])
        true = signal[0, :60] - np.median(signal[0, page.printed[0]])
        assert np.nanmax(np.abs(read - true)) < 0.5  # mV: the header lies at +2.2
        assert _snr(signal, got, page)[0] > 10


def test_a_thin_pen_turned_on_the_flatbed_keeps_its_strokes(records):
    """printsim's 0.5 pt pen, its page turned 1.3 and -1.7 degrees by the drawer's own
    bilinear resampling: the picture is squared and turned back in one bicubic
    resampling, so the faded strokes are not faded again. At 150 dpi the turned prints
    read within 0.8 dB of the unturned (measured 0.3 / 0.7 dB; two resamplings lost 1.1 /
    2.1 dB); at 110 dpi, where the pen is under a pixel wide, every turned print is still
    read (two resamplings refused 13 of 16 on 8 records)."""
    names = sorted(records)[:6]
    for dpi in (150.0, 110.0):
        loss, turned_snr = [], []
        for name in names:
            page = draw_print(records[name], PrintStyle(dpi=dpi, grid="red", trace_width_pt=0.5))
            flat = np.median(_snr(records[name], digitize_picture(page.image, name), page))
            for degrees in (1.3, -1.7):
                got = digitize_picture(rotate_page(page.image, degrees), f"{name} turned")
                turned_snr.append(np.median(_snr(records[name], got, page)))
                loss.append(flat - turned_snr[-1])
        print(dpi, np.round(loss, 1), np.round(turned_snr, 1))
        if dpi == 150.0:
            assert np.median(loss) < 0.8
        else:
            assert np.median(turned_snr) > 5


@pytest.mark.parametrize(("layout", "gain"), [("3x4", 10.0), ("6x2", 10.0), ("12x1", 5.0)])
def test_prints_drawn_by_another_program(records, layout, gain):
    """ecg_plot (drawers/otherdraw.py), a program outside the project, prints each panel
    apart on its own grid, the rhythm strip narrower than the rows above it and the
    pulse centred on the baseline: the scale, the layout, the gain from its pulse and
    each panel at its time are still found."""
    snrs = []
    for name in ("00002_hr", "A0689", "JS03291", "E00271", "HR06001"):
        drawn = otherdraw.draw(records[name], layout, dpi=150.0)
        got = digitize_picture(drawn.image, name)
        assert got.layout == layout
        assert np.allclose(got.px_per_mm, drawn.px_per_mm, rtol=0.02)
        assert (got.mm_per_mv, got.gain_source) == (gain, "calibration pulse")
        assert (got.printed & ~drawn.printed).sum() < 0.01 * drawn.printed.sum()
        snrs.append(np.median(record_snr(records[name], got.signal, drawn.printed)))
    print(layout, np.round(snrs, 1))
    assert np.median(snrs) > 12


@pytest.mark.parametrize(
    ("condition", "bw", "floor_db", "pitch_rtol"),
    [
        ("colour scan", False, 10, 0.02),
        ("phone photo", False, 10, None),
        ("b/w scan", True, 5, 0.01),
    ],
)
def test_a_thin_pen_under_darker_labels_is_read_from_scans_and_photos(
    records, condition, bw, floor_db, pitch_rtol
):
    """ecg_plot's 0.18 mm pen at 150 dpi, scanned or photographed, is fainter than its
    black lead labels and header: the trace's darkness is taken from its own strokes
    (before, the rows were refused). In its black-and-white style (faint 5 mm lines
    only, each panel's grid in its own phase) the pitch is found within 1% (it was 3%
    short on some: rows 0.3 s off); measured 1-17 dB, 8 median, on these five. A reading
    whose limb leads are too garbled to tell its way up is refused, and counts 0 dB."""
    snrs = []
    for i, name in enumerate(("00002_hr", "A0689", "JS03291", "E00271", "HR06001")):
        drawn = otherdraw.draw(records[name], "3x4", dpi=150.0, bw=bw)
        picture = photograph(drawn.image, condition, np.random.default_rng(i))
        try:
            got = digitize_picture(picture, name)
        except BadInputError as exc:
            assert "which way up it is cannot be told" in str(exc), exc
            snrs.append(0.0)
            continue
        if pitch_rtol:  # (a photo's sheet is warped to a size of its own)
            assert np.allclose(got.px_per_mm, drawn.px_per_mm, rtol=pitch_rtol), name
        snrs.append(np.median(record_snr(records[name], got.signal, drawn.printed)))
    print(condition, np.round(snrs, 1))
    assert np.median(snrs) > floor_db


def _tallest(records: dict[str, np.ndarray], n: int) -> list[str]:
    """The fixture records with the largest precordial complexes (peak to peak, V1-V4)."""
    return sorted(records, key=lambda k: -np.ptp(records[k][6:10], axis=1).max())[:n]


@pytest.mark.parametrize("seed", [3, 7])
def test_a_close_up_photo_with_perspective_and_no_paper_edge_is_read(records, seed):
    """drawers/cart.py: the sheet fills the frame at an angle (each corner of the view up
    to 4% of the side off), so no paper edge can be squared; the grid's own lines must be.
    Before the grid was used for this, such photos were refused ("no ECG grid found") or
    read at 0-6 dB."""
    for name in _tallest(records, 2):
        page = cart.draw_cart(records[name], cart.CartStyle(layout="3x4", row_pitch_mm=32.0))
        photo = cart.close_up(page.image, np.random.default_rng(seed))
        got = digitize_picture(photo, f"{name}_close_up.jpg")
        assert not got.paper_found and got.layout == "3x4"
        snr = _snr(records[name], got, page)
        assert np.nanmedian(snr) >= 9.0, (name, np.round(snr, 1))


def test_tall_complexes_crossing_into_the_next_row_on_a_cart_scan(records):
    """Rows 30 mm apart with the fixture's tallest precordial complexes (4-7 mV peak to
    peak: V-lead S waves run through the next row's baseline): read as scans."""
    medians = []
    for name in _tallest(records, 4):
        page = cart.draw_cart(records[name], cart.CartStyle(layout="3x4", row_pitch_mm=30.0))
        got = digitize_picture(cart.scanned(page.image, np.random.default_rng(1)), name)
        medians.append(float(np.nanmedian(_snr(records[name], got, page))))
    assert np.median(medians) >= 14.0 and min(medians) >= 12.0, np.round(medians, 1)


@pytest.mark.parametrize("cut", ["top", "bottom"])
def test_a_12x1_picture_whose_frame_cuts_an_outer_row_reads_the_rows_it_shows(records, cut):
    """A 12x1 print with rows 15 mm apart (drawers/cart.py), the picture's frame cutting
    through lead I's trace (or V6's) a little beyond its baseline, as a close-up photo
    of a 12x1 print does: the eleven rows it shows are read as their own leads, the cut
    lead is left unread (a row read as its neighbour's lead would score about 0 dB).
    Before, such pictures were refused ("found 11 trace rows")."""
    lost = 0 if cut == "top" else 11
    # the record whose cut lead dips furthest below its baseline: its complexes show
    name = max(
        records, key=lambda k: np.median(records[k][lost]) - np.percentile(records[k][lost], 1)
    )
    style = cart.CartStyle(layout="12x1", row_pitch_mm=15.0, mm_per_mv=5.0)
    page = cart.draw_cart(records[name], style)
    # the drawer centres its rows on the A4 page, baselines on whole millimetres
    first_mm = 210.0 - round(105.0 + 15.0 * 11 / 2)  # lead I's baseline from the top
    if cut == "top":
        picture = page.image[int((first_mm + 1.5) * page.px_per_mm) :]
    else:
        picture = page.image[: int((first_mm + 15.0 * 11 - 1.5) * page.px_per_mm)]
    got = digitize_picture(cart.scanned(picture, np.random.default_rng(4)), f"{name}_{cut}.jpg")
    assert got.layout == "12x1"
    assert not got.printed[lost].any()
    snr = _snr(records[name], got, page)
    shown = np.delete(snr, lost)
    limb = np.delete(snr[:6], lost) if lost < 6 else snr[:6]  # read from the row it is on
    assert np.median(shown) >= 12.0 and limb.min() >= 10.0, (name, np.round(snr, 1))


@pytest.mark.parametrize("out", ["top", "bottom"])
def test_a_12x1_picture_with_a_whole_outer_row_out_of_frame(records, out):
    """A 12x1 print with rows 15 mm apart (drawers/cart.py) in a picture whose frame runs
    just inside both outer rows it shows, lead I's row (or V6's) wholly beyond it with no
    complex of it in view, as a tight close-up of a 12x1 print is: which row is missing
    cannot be seen, so the rows are read both ways and the reading whose limb leads fit
    Einthoven's law is kept. Before, such pictures were refused ("found 11 trace rows")."""
    lost = 0 if out == "top" else 11
    # the record whose lost lead strays least from its baseline: none of it is in view
    name = min(records, key=lambda k: np.abs(records[k][lost] - np.median(records[k][lost])).max())
    style = cart.CartStyle(layout="12x1", row_pitch_mm=15.0, mm_per_mv=5.0)
    page = cart.draw_cart(records[name], style)
    first_mm = 210.0 - round(105.0 + 15.0 * 11 / 2)  # lead I's baseline from the top
    first_shown = first_mm + (15.0 if out == "top" else 0.0)  # the outer rows in view:
    shown_mm = (first_shown, first_shown + 15.0 * 10)  # their baselines, 10 pitches apart
    top, bottom = (
        int((mm + side * 0.45 * 15.0) * page.px_per_mm) for mm, side in zip(shown_mm, (-1, 1))
    )
    picture = page.image[top:bottom]
    got = digitize_picture(cart.scanned(picture, np.random.default_rng(4)), f"{name}_{out}.jpg")
    assert got.layout == "12x1"
    assert not got.printed[lost].any()
    snr = _snr(records[name], got, page)
    shown = np.delete(snr, lost)
    limb = np.delete(snr[:6], lost) if lost < 6 else snr[:6]
    assert np.median(shown) >= 12.0 and limb.min() >= 10.0, (name, np.round(snr, 1))


@pytest.mark.parametrize("name", ["A0689", "E00271"])
def test_a_12x1_row_whose_trace_wandered_off_it(records, name):
    """A 12x1 print (drawers/cart.py, rows 15 mm apart) of a record whose V1 electrode
    moved: its trace starts 4 mV below the baseline, jumps 8 mV up at 3 s and drifts
    back (the shape of a shared record's V1), crossing V2's row and aVF's, so V1's own
    row holds almost no ink. The twice-as-wide gap between aVF and V2 is read as V1's
    row, and the other eleven leads as their own. Before, it was refused ("found 11
    trace rows")."""
    signal = records[name].copy()
    t = np.arange(signal.shape[1]) / 500.0
    signal[6] += np.interp(
        t, [0, 2, 2.6, 3, 4, 5, 6.5, 8, 10], [-4.4, -3.2, -1.3, 3.5, 1.8, 0.4, 0.0, 0.7, 2.2]
    )
    style = cart.CartStyle(layout="12x1", row_pitch_mm=15.0, mm_per_mv=5.0)
    page = cart.draw_cart(signal, style)
    got = digitize_picture(cart.scanned(page.image, np.random.default_rng(4)), f"{name}.jpg")
    assert got.layout == "12x1"
    snr = _snr(signal, got, page)
    others = np.delete(snr, 6)
    assert np.median(others) >= 12.0 and snr[:6].min() >= 10.0, np.round(snr, 1)


@pytest.mark.parametrize("name", ["astronaut", "coffee", "page", "text", "checkerboard", "camera"])
def test_pictures_that_are_not_ecg_prints_are_refused_naming_the_file(name):
    img = getattr(skimage.data, name)()
    img = np.repeat(img[..., None], 3, axis=2) if img.ndim == 2 else img[..., :3]
    with pytest.raises(BadInputError, match=f"{name}.jpg: not a readable ECG print"):
        digitize_picture(img, f"{name}.jpg")


def test_the_projects_own_renders_are_not_prints():
    """A gridless plot has no scale: refused rather than read at a guessed one."""
    img = cv2.imread(str(ROOT / "docs" / "example_renderings_A0689.png"))[..., ::-1]
    with pytest.raises(BadInputError, match="no ECG grid"):
        digitize_picture(img, "render.png")


def test_digitize_cli_on_a_folder_of_jpeg_photos(records, tmp_path):
    pics = tmp_path / "pics"
    pics.mkdir()
    rng = np.random.default_rng(3)
    layouts = {
        "p3x4": PrintStyle(),
        "p6x2": PrintStyle(layout="6x2", grid="blue"),
        "p12x1": PrintStyle(layout="12x1", mm_per_mv=5.0),
    }
    for name, style in layouts.items():
        photo = photograph(draw_print(records["00011_hr"], style).image, "phone photo", rng)
        cv2.imwrite(str(pics / f"{name}.jpg"), photo[..., ::-1])
    cv2.imwrite(str(pics / "cat.jpg"), skimage.data.chelsea()[..., ::-1])
    out = tmp_path / "out"
    cmd = [sys.executable, str(ROOT / "digitize.py"), "--images", str(pics), "--out", str(out)]
    refused = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    assert refused.returncode == 2 and "cat.jpg: not a readable ECG print" in refused.stderr
    done = subprocess.run([*cmd, "--skip-bad"], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    report = pd.read_csv(out / "digitize_report.csv").set_index("name")
    assert report.loc["cat", "status"] == "unreadable"
    assert report.loc[list(layouts), "layout"].tolist() == ["3x4", "6x2", "12x1"]
    rec = read_record(out / "p3x4.mat", missing_ok=True)
    shown = np.isfinite(rec.signal)
    assert shown[LEADS.index("II")].all()  # the rhythm strip
    assert shown[LEADS.index("I"), :1250].mean() > 0.98 and not shown[LEADS.index("I"), 1300:].any()
    assert (
        shown[LEADS.index("V6"), 3800:].mean() > 0.98 and not shown[LEADS.index("V6"), :3700].any()
    )
    with pytest.raises(BadInputError, match="NaN"):
        read_record(out / "p3x4.mat")  # a partial record is not a MAT record for training


def test_beats_of_real_records_run_forward_and_backward_upside_down(records):
    """The beat order that tells a print's way up where its limb leads cannot: the
    fixture records as a 3x4 print shows them run clearly forward (T after QRS), and
    read as an upside-down page reads (backwards in time, negated) clearly backward. A
    lone reading of a picture as given whose beats run backward is refused, not taken;
    beats tell the way up only between readings whose limb leads are not misread."""
    from ecgplot.digitize.orientation import CLEAR_ORDER, beat_order, upright_choice
    from ecgplot.prints import mask_as_print

    forward = backward = 0
    for signal in records.values():
        shown = mask_as_print(signal, "3x4").astype(float)
        ahead, behind = beat_order(shown), beat_order(-shown[:, ::-1])
        forward += ahead >= CLEAR_ORDER
        backward += behind <= -CLEAR_ORDER
        assert not (ahead <= -CLEAR_ORDER and behind >= CLEAR_ORDER)  # never clearly wrong
    assert forward >= 0.8 * len(records) and backward >= 0.8 * len(records)
    lone = {2: 0.36}  # a limb misfit that tells nothing, read from the picture as given
    assert upright_choice(lone, {2: False}, as_given=2, orders={2: -CLEAR_ORDER}) is None
    taken = upright_choice(lone, {2: False}, as_given=2, orders={2: CLEAR_ORDER})
    assert taken == (2, "only reading")
    both, forward_first = {0: False, 2: False}, {0: 2 * CLEAR_ORDER, 2: -2 * CLEAR_ORDER}
    assert upright_choice({0: 0.3, 2: 0.35}, both, orders=forward_first) == (0, "beat order")
    assert upright_choice({0: 0.7, 2: 0.8}, both, orders=forward_first) is None  # misread


def test_limb_samples_that_contradict_four_others_are_read_from_them(records):
    """Limb leads hold two signals (III = II - I, aVR, aVL, aVF from I and II): a real
    record's aVL and aVF given a neighbour's stroke over the same QRS (two leads misread
    at once), each lead on its own baseline as the digitiser reads panels: those samples
    are read again from the other four, within 0.03 mV; nothing else moves; a record read
    right, or a 3x4 print (never four limb leads at once but on the rhythm strip), is
    left as it is."""
    from ecgplot.digitize.limbs import repair_limb_leads
    from ecgplot.prints import mask_as_print

    truth = records["00008_hr"].astype(float)
    truth = truth - np.median(truth, axis=1, keepdims=True) + np.arange(12)[:, None] * 0.01
    assert repair_limb_leads(truth)[1] == 0
    read = truth.copy()
    peaks = np.argsort(-np.abs(np.diff(truth[1])))[:3]  # steepest stretches of lead II
    hit = np.zeros(truth.shape[1], bool)
    for p in peaks:
        hit[p - 6 : p + 6] = True
    read[4, hit] += 0.9  # aVL took the next row's R wave
    read[5, hit] -= 0.7  # and aVF the row above's S wave
    fixed, n = repair_limb_leads(read)
    assert n >= hit.sum()
    assert np.abs(fixed[4:6, hit] - truth[4:6, hit]).max() < 0.03
    assert np.array_equal(fixed[6:], read[6:]) and np.array_equal(fixed[:4], read[:4])
    shown = mask_as_print(records["00008_hr"], "3x4")
    assert repair_limb_leads(shown)[1] == 0


def test_limb_leads_shown_together_are_read_from_all_of_them(records):
    """Where three or more limb leads are shown at once, each sample is read from all of
    them: a real record's own limb leads, which hold two signals, barely move, shown all
    six at once or three and four at a time as a 3x4 print shows them; each lead's
    baseline is kept; the chest leads are left as they are."""
    from ecgplot.digitize.limbs import project_limb_leads
    from ecgplot.prints import mask_as_print

    truth = records["00008_hr"].astype(float)
    truth = truth - np.median(truth, axis=1, keepdims=True) + np.arange(12)[:, None] * 0.01
    joint = project_limb_leads(truth)
    assert np.abs(joint[:6] - truth[:6]).max() < 0.03
    assert np.allclose(np.median(joint[:6], axis=1), np.median(truth[:6], axis=1), atol=0.005)
    assert np.array_equal(joint[6:], truth[6:])
    shown = mask_as_print(truth, "3x4")
    joint = project_limb_leads(shown)
    assert np.array_equal(np.isnan(joint), np.isnan(shown))
    assert not np.array_equal(joint[:6], shown[:6], equal_nan=True)
    assert np.nanmax(np.abs(joint[:6] - shown[:6])) < 0.03
    assert np.array_equal(joint[6:], shown[6:], equal_nan=True)


def test_limb_leads_shown_together_for_fewer_samples_than_a_lag(records):
    """A stretch where three limb leads meet can be shorter than the lags tried (a cart
    6x2 print's panels, read a few samples apart, once crashed the reader): such a
    stretch is still read jointly, and nothing outside it moves; so is one just long
    enough to be aligned."""
    from ecgplot.digitize.limbs import MAX_LAG, MIN_ALIGNED, project_limb_leads

    truth = records["00008_hr"].astype(float)
    shown = truth.copy()
    shown[2:6] = np.nan
    for width in (1, 2, MAX_LAG // 2, MAX_LAG + 1, MIN_ALIGNED):
        read = shown.copy()
        read[2, 1000 : 1000 + width] = truth[2, 1000 : 1000 + width]
        joint = project_limb_leads(read)
        assert np.array_equal(np.isnan(joint), np.isnan(read))
        outside = np.ones(truth.shape[1], bool)
        outside[1000 : 1000 + width] = False
        assert np.array_equal(joint[:, outside], read[:, outside], equal_nan=True)
        assert np.abs(joint[:3, 1000 : 1000 + width] - truth[:3, 1000 : 1000 + width]).max() < 0.1


def test_limb_leads_read_jointly_keep_each_rows_timing(records, monkeypatch):
    """A photo's rows can be read shifted in time against each other (printsim's 3x4
    photos of the first 120 records: lead I against the lead-II strip by up to 10 samples).
    The joint reading brings the leads onto one time before fitting and moves them back:
    each lead keeps its own timing, and its steep strokes are not smeared by the others'."""
    from ecgplot.digitize import limbs
    from ecgplot.prints import mask_as_print

    truth = mask_as_print(records["00008_hr"], "3x4").astype(float)
    lag = {0: 6, 3: 6, 2: -4, 5: -4}  # row 1 (I, aVR) late, row 3 (III, aVF) early
    read = truth.copy()
    for lead, s in lag.items():
        read[lead] = np.roll(truth[lead], s)
    read = np.where(np.isfinite(truth), read, np.nan)
    inside = np.isfinite(read) & np.isfinite(np.roll(truth, 12, axis=1))
    inside &= np.isfinite(np.roll(truth, -12, axis=1))

    def error(x):
        return np.sqrt(np.nanmean(np.where(inside[:6], x[:6] - read[:6], np.nan) ** 2))

    joint = limbs.project_limb_leads(read)
    monkeypatch.setattr(limbs, "MAX_LAG", 0)
    unaligned = limbs.project_limb_leads(read)
    assert error(joint) < 0.01
    assert error(unaligned) > 5 * error(joint)
    assert np.array_equal(joint[6:], read[6:], equal_nan=True)


@pytest.mark.parametrize(("layout", "pitch_mm"), [("12x1", 14.0), ("3x4", 26.0)])
def test_limb_leads_read_jointly_gain(records, monkeypatch, layout, pitch_mm):
    """Cart scans at 10 mm/mV (drawers/cart.py, rows as tight as carts print them) of
    four fixture records: reading each limb-lead sample from all the limb leads shown
    with it (six on 12x1, three or four on 3x4) raises their SNR, on average over the
    records, by over 0.3 dB (the first 100 shared records, 12x1: +0.5 dB on the limb
    leads); the chest leads are read as before."""
    import ecgplot.digitize.reader as reader

    gains = []
    for name in sorted(records)[:4]:
        style = cart.CartStyle(layout=layout, row_pitch_mm=pitch_mm, mm_per_mv=10.0, dpi=150)
        page = cart.draw_cart(records[name], style)
        picture = cart.scanned(page.image, np.random.default_rng(3))
        got = digitize_picture(picture, name)
        with monkeypatch.context() as m:
            m.setattr(reader, "project_limb_leads", lambda s: s)
            alone = digitize_picture(picture, name)
        assert np.array_equal(got.signal[6:], alone.signal[6:], equal_nan=True)
        gains.append(
            np.mean(_snr(records[name], got, page)[:6] - _snr(records[name], alone, page)[:6])
        )
    assert np.mean(gains) > 0.3, np.round(gains, 2)


def test_limb_leads_of_a_tight_12x1_print_read_better_through_each_other(records, monkeypatch):
    """12x1 at 10 mm/mV, rows 14 mm apart (drawers/cart.py), the fixture records with the
    tallest limb-lead complexes: their crossing strokes are taken for the wrong leads; read
    again through the other limb leads, the limb leads gain over 1 dB on average."""
    import ecgplot.digitize.reader as reader

    names = sorted(records, key=lambda k: -np.ptp(records[k][:6], axis=1).max())[:5]
    gains = []
    for name in names:
        style = cart.CartStyle(layout="12x1", row_pitch_mm=14.0, mm_per_mv=10.0, dpi=150)
        page = cart.draw_cart(records[name], style)
        picture = cart.scanned(page.image, np.random.default_rng(2))
        got = digitize_picture(picture, name)
        assert got.limb_samples_reread > 0
        with monkeypatch.context() as m:
            m.setattr(reader, "repair_limb_leads", lambda s: (s, 0))
            raw = digitize_picture(picture, name)
        gains.append(
            np.mean(_snr(records[name], got, page)[:6] - _snr(records[name], raw, page)[:6])
        )
    assert np.mean(gains) >= 1.0, np.round(gains, 2)

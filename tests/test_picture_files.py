"""Pictures as users have them: turned any way (EXIF tag or pixels), PDF/WEBP/HEIC/GIF/
16-bit exports, bad and huge files, records out as MAT, WFDB and CSV. The prints are of
real records drawn by the independent test drawer (drawers/printsim.py, matplotlib)."""

from __future__ import annotations

import cv2
import numpy as np
import pandas as pd
import pytest
import wfdb
from matplotlib.backends.backend_pdf import PdfPages
from PIL import Image

from drawers import cart
from drawers.printsim import PrintStyle, draw_print, photograph
from ecgplot import aiwin
from ecgplot.aiwin import BadInputError
from ecgplot.digitize import digitize_picture
from ecgplot.digitize.folder import REPORT, digitize_folder
from ecgplot.digitize.quality import record_snr
from ecgplot.pictures import MAX_PIXELS, read_picture

NAMES = ("00008_hr", "A0689")


@pytest.fixture(scope="module")
def records(physionet_t2):
    return {n: aiwin.read_record(physionet_t2 / "train" / f"{n}.mat").signal for n in NAMES}


@pytest.fixture(scope="module")
def prints(records):
    """Per record: (colour scan of its 3x4 print, printed samples)."""
    rng = np.random.default_rng(11)
    out = {}
    for name, sig in records.items():
        page = draw_print(sig, PrintStyle(grid="red"))
        out[name] = photograph(page.image, "colour scan", rng), page.printed
    return out


def _snr(signal, got, printed) -> float:
    return float(np.median(record_snr(signal, got.signal, printed)))


def _save(rgb: np.ndarray, path, **kwargs) -> None:
    Image.fromarray(rgb).save(path, **kwargs)


def test_the_way_up_told_by_the_beats_where_the_limb_leads_cannot(records, monkeypatch):
    """Where Einthoven's law does not tell which way up a print is (limb leads read too
    badly to: their misfit made unknown here) and no calibration pulse does, the reading
    whose beats run forward in time (each QRS complex followed by its T wave) is taken:
    a print and the same print upside down are read alike. Both were refused before."""
    from ecgplot.digitize import reader

    monkeypatch.setattr(reader, "limb_misfit", lambda signal: float("nan"))
    name = NAMES[1]
    page = draw_print(records[name], PrintStyle(grid="red", calibration=False))
    picture = photograph(page.image, "colour scan", np.random.default_rng(5))
    upright = digitize_picture(picture, "upright")
    turned = digitize_picture(np.ascontiguousarray(np.rot90(picture, 2)), "upside down")
    for got in (upright, turned):
        assert got.orientation_source == "beat order"
        assert _snr(records[name], got, page.printed) > 10
    assert np.allclose(upright.signal, turned.signal, equal_nan=True, atol=0.05)


def test_turned_pictures_are_read_upright_or_refused(records, prints, tmp_path):
    """A print turned 90, 180 or 270 degrees (a portrait phone picture, a scan fed in
    upside down) and a JPEG whose pixels are turned but carry an EXIF orientation tag
    are read as the upright picture is, within 1 dB, and say how they were turned; the
    upside-down one was read wrong before (an inverted, time-reversed signal)."""
    name = NAMES[0]
    picture, printed = prints[name]
    upright = digitize_picture(picture, "upright")
    base = _snr(records[name], upright, printed)
    assert base > 10 and upright.orientation_source == "limb leads"
    for k in (1, 2, 3):
        got = digitize_picture(np.ascontiguousarray(np.rot90(picture, k)), f"turned {k}")
        assert got.layout == "3x4" and got.orientation_source == "limb leads"
        assert abs(_snr(records[name], got, printed) - base) <= 1.0
        turned = got.rotation_deg - upright.rotation_deg  # k quarters counter-clockwise
        assert abs((turned - 90 * k + 180) % 360 - 180) < 0.5
    tagged = tmp_path / "tagged.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display": the pixels lie turned
    _save(np.ascontiguousarray(np.rot90(picture, 1)), tagged, quality=95, exif=exif)
    got = digitize_picture(read_picture(tagged), tagged)
    assert abs(got.rotation_deg - upright.rotation_deg) < 0.5
    assert abs(_snr(records[name], got, printed) - base) <= 1.0


@pytest.mark.parametrize("layout", ["6x2", "12x1"])
def test_turned_cart_prints_with_crossing_complexes_read_as_upright(records, layout):
    """Cart prints with rows as tight as carts print them (the tall complexes cross the
    next row; drawers/cart.py), scanned and as close-up photos with perspective, turned
    90 to 270 degrees: each is read the right way up (its turn reported) and within
    1 dB of the upright picture's reading, or refused with the reason as the upright
    picture is; never read the wrong way up. (Before, a turned picture was rectified as
    it lay: 6x2 close-up 9.6 / 7.4 / 11.3 / 7.7 dB at 0 / 90 / 180 / 270 degrees.)"""
    name = NAMES[0]
    pitch = 15.0 if layout == "12x1" else 28.0
    page = cart.draw_cart(records[name], cart.CartStyle(layout=layout, row_pitch_mm=pitch))
    rng = np.random.default_rng(2)
    read = 0
    for picture in (cart.scanned(page.image, rng), cart.close_up(page.image, rng)):
        readings = {}
        for k in range(4):
            try:
                got = digitize_picture(np.ascontiguousarray(np.rot90(picture, k)), f"turned {k}")
            except BadInputError as exc:
                assert "not a readable ECG print" in str(exc), exc
                readings[k] = None
                continue
            read += 1
            assert abs((got.rotation_deg - 90 * k + 180) % 360 - 180) < 3, (layout, k)
            readings[k] = _snr(records[name], got, page.printed)
            assert readings[k] > 3.0, (layout, k)  # not backwards
        if readings[0] is None:
            assert all(v is None for v in readings.values()), (layout, readings)
        else:
            assert all(v is not None and abs(v - readings[0]) <= 1.0 for v in readings.values()), (
                layout,
                readings,
            )
    assert read >= 4


def test_pdf_webp_heic_gif_and_16_bit_pictures_read_as_the_png_does(records, prints, tmp_path):
    """The same print as lossless WEBP, as GIF (its palette, also saved as a palette
    PNG) and as 16-bit grey PNG decodes to the pixels of the matching 8-bit PNG; as HEIC
    (lossy) it reads within 1 dB of the PNG; exported by the drawer as a vector PDF (what
    carts export) it reads as well as the PNG or better; a two-page PDF gives NAME_p1
    and NAME_p2, each its own record."""
    name = NAMES[0]
    picture, printed = prints[name]
    folder = tmp_path / "pictures"
    folder.mkdir()
    _save(picture, folder / "png.png")
    _save(picture, folder / "webp.webp", lossless=True)
    palette = Image.fromarray(picture).quantize(256)
    palette.save(folder / "gif.gif")
    palette.save(folder / "palette.png")
    grey = cv2.cvtColor(picture, cv2.COLOR_RGB2GRAY)
    Image.fromarray(grey).save(folder / "grey8.png")
    Image.fromarray(grey.astype(np.uint16) * 257).save(folder / "grey16.png")
    for copy, original in (
        ("webp.webp", "png.png"),
        ("gif.gif", "palette.png"),
        ("grey16.png", "grey8.png"),
    ):
        np.testing.assert_array_equal(read_picture(folder / copy), read_picture(folder / original))
    pytest.importorskip("pillow_heif").register_heif_opener()  # requirements.txt has it
    _save(picture, folder / "heic.heic", quality=95)
    style = PrintStyle(grid="red")
    draw_print(records[name], style, pdf=folder / "export.pdf")
    with PdfPages(folder / "two.pdf") as pdf:
        for n in NAMES:
            draw_print(records[n], style, pdf=pdf)
    report = digitize_folder(folder, tmp_path / "out").set_index("name")
    assert (report.status == "ok").all(), report.problem
    assert sorted(report.index) == [
        "export",
        "gif",
        "grey16",
        "grey8",
        "heic",
        "palette",
        "png",
        "two_p1",
        "two_p2",
        "webp",
    ]
    snr = {}
    for stem in ("png", "heic", "export", "two_p1", "two_p2"):
        got = aiwin.read_record(tmp_path / "out" / f"{stem}.mat", missing_ok=True).signal
        truth = records[NAMES[1]] if stem == "two_p2" else records[name]
        snr[stem] = float(np.median(record_snr(truth, got, printed)))
    assert abs(snr["heic"] - snr["png"]) <= 1.0, snr
    assert min(snr["export"], snr["two_p1"], snr["two_p2"]) >= snr["png"] - 1.0, snr


def test_every_file_of_a_folder_gets_one_report_line(prints, tmp_path):
    """A text file named .jpg, a truncated JPEG, an unknown format, a hidden file, a
    subfolder and a 90-megapixel PNG (refused from its header, before decoding) beside a
    real print: with --skip-bad each has its line and reason, the print is read; without
    it the first bad picture stops the run, named."""
    folder = tmp_path / "pictures"
    folder.mkdir()
    _save(prints[NAMES[0]][0], folder / "print.png")
    (folder / "notes.jpg").write_text("not an image")
    (folder / "cut.jpg").write_bytes(b"\xff\xd8\xff\xe0 truncated")
    (folder / "scan.xyz").write_bytes(b"\x00" * 100)
    (folder / ".DS_Store").write_bytes(b"\x00")
    (folder / "old").mkdir()
    Image.new("1", (10000, 9000), 1).save(folder / "huge.png")
    assert MAX_PIXELS < 10000 * 9000
    report = digitize_folder(folder, tmp_path / "out", skip_bad=True).set_index("file")
    assert sorted(report.index) == sorted(p.name for p in folder.iterdir())
    status = report.status.to_dict()
    assert status == {
        "print.png": "ok",
        "notes.jpg": "unreadable",
        "cut.jpg": "unreadable",
        "huge.png": "unreadable",
        "scan.xyz": "skipped",
        ".DS_Store": "skipped",
        "old": "skipped",
    }
    problem = report.problem.to_dict()
    assert "not a readable image" in problem["notes.jpg"]
    assert "90 megapixels, over the limit of 80" in problem["huge.png"]
    assert "not a picture the project reads (.xyz" in problem["scan.xyz"]
    assert (tmp_path / "out" / REPORT).is_file() and (tmp_path / "out" / "print.mat").is_file()
    with pytest.raises(BadInputError, match="huge.png.*megapixels|notes.jpg|cut.jpg"):
        digitize_folder(folder, tmp_path / "out2")


def test_records_out_as_wfdb_and_csv_read_back_as_the_mat(prints, tmp_path):
    """--format wfdb and csv hold what --format mat holds, within 1 uV, with the
    unprinted stretches missing (NaN) in the same places."""
    folder = tmp_path / "pictures"
    folder.mkdir()
    _save(prints[NAMES[1]][0], folder / "rec.png")
    for fmt in ("mat", "wfdb", "csv"):
        digitize_folder(folder, tmp_path / fmt, fmt=fmt)
    mat = aiwin.read_record(tmp_path / "mat" / "rec.mat", missing_ok=True).signal
    record = wfdb.rdrecord(str(tmp_path / "wfdb" / "rec"))
    assert record.fs == aiwin.FS and tuple(record.sig_name) == aiwin.LEADS
    assert set(record.units) == {"mV"}
    table = pd.read_csv(tmp_path / "csv" / "rec.csv")
    assert list(table.columns) == ["time_s", *aiwin.LEADS]
    np.testing.assert_allclose(table.time_s.to_numpy(), np.arange(mat.shape[1]) / aiwin.FS)
    for got in (record.p_signal.T, table[list(aiwin.LEADS)].to_numpy().T):
        assert np.array_equal(np.isnan(got), np.isnan(mat)) and np.isnan(mat).any()
        np.testing.assert_allclose(got, mat, atol=1e-3, rtol=0)  # mV: 1 uV

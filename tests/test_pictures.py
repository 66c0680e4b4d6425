"""Pictures of paper ECGs: the renderer's grid, labels and calibration pulses, reading
picture files, and predict.py --images / ensemble.py --images end to end on pictures of
real records drawn by an independent program (drawers/printsim.py)."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import cv2
import numpy as np
import pandas as pd
import pytest

from drawers.printsim import PrintStyle, draw_print, photograph
from ecgplot import aiwin
from ecgplot.aiwin import BadInputError
from ecgplot.infer import load_run, predict_folder, predict_pictures
from ecgplot.pictures import list_pictures, read_picture
from ecgplot.render import RenderConfig, layout_panels, render_plot

from .conftest import ROOT
from .test_predict import task2_run  # noqa: F401 (fixture)


@pytest.fixture(scope="module")
def signals(physionet_t2):
    names = ["00008_hr", "A0689", "JS03291"]
    return {n: aiwin.read_record(physionet_t2 / "train" / f"{n}.mat").signal for n in names}


def test_minor_grid_calibration_and_layouts(signals):
    sig = signals["00008_hr"]
    gray = RenderConfig(size=384, grid=True, mm_per_mv=10.0)
    with_minor = render_plot(np.zeros_like(sig), gray)
    without = render_plot(np.zeros_like(sig), dataclasses.replace(gray, minor_grid=False))
    assert (with_minor < 255).mean() > 2 * (without < 255).mean() > 0
    for layout in ("rows12", "grid3x4", "grid6x2"):
        cfg = dataclasses.replace(gray, layout=layout, grid=False, calibration=True)
        flat = render_plot(np.zeros_like(sig), cfg)
        rows = {p.y_mid for p in layout_panels(layout, 384) if p.x0 == 0}
        pulse = cfg.px_per_mv
        for y in rows:  # a 1 mV pulse at the start of each row of panels, none elsewhere
            top = int(round(y - pulse))
            assert flat[top, 1 : int(0.2 * cfg.px_per_s)].min() < 128
            assert flat[top, int(0.5 * cfg.px_per_s) :].min() > 200


def test_picture_files_are_listed_and_read_or_named_as_bad(tmp_path):
    """A folder's pictures are listed by suffix (hidden files and others skipped); a file
    that is not an image, or one too small to hold a print, is bad input naming it."""
    cv2.imwrite(str(tmp_path / "b.png"), np.full((300, 400, 3), 255, np.uint8))
    cv2.imwrite(str(tmp_path / "a.JPG"), np.full((120, 90, 3), 200, np.uint8))
    (tmp_path / ".c.png").write_bytes(b"hidden")
    (tmp_path / "notes.txt").write_text("not a picture")
    assert [p.name for p in list_pictures(tmp_path)] == ["a.JPG", "b.png"]
    assert read_picture(tmp_path / "a.JPG").shape == (120, 90, 3)
    text = tmp_path / "notes.jpg"
    text.write_text("not an image")
    with pytest.raises(BadInputError, match="not a readable image") as err:
        read_picture(text)
    assert "notes.jpg" in str(err.value)
    cv2.imwrite(str(tmp_path / "tiny.png"), np.zeros((40, 40), np.uint8))
    with pytest.raises(BadInputError, match="40x40: too small"):
        read_picture(tmp_path / "tiny.png")
    (tmp_path / "empty").mkdir()
    with pytest.raises(BadInputError, match="no pictures here"):
        list_pictures(tmp_path / "empty")


def _prints(signals, folder):
    """Pictures of the records as carts print them, drawn by the independent program:
    a 3x4 phone photo (JPEG), a 6x2 colour scan (PNG), a 12x1 print (TIFF)."""
    folder.mkdir()
    rng = np.random.default_rng(5)
    kinds = [
        (PrintStyle(), "phone photo", ".jpg"),
        (PrintStyle(layout="6x2", grid="blue"), "colour scan", ".png"),
        (PrintStyle(layout="12x1", mm_per_mv=5.0, grid="green"), "clean", ".tiff"),
    ]
    for (name, sig), (style, condition, suffix) in zip(signals.items(), kinds):
        img = photograph(draw_print(sig, style).image, condition, rng)
        cv2.imwrite(str(folder / f"photo_{name}{suffix}"), cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
    return folder


def test_predict_images_end_to_end(task2_run, signals, tmp_path):  # noqa: F811
    """predict.py --images on pictures of prints of real records: each is digitised and
    predicted by the (image) run; answer.csv and probs.csv name every picture by its
    stem, digitize_report.csv says what was found; a bad file stops the run (exit 2,
    named) unless --skip-bad lists it; the probabilities match predict_pictures."""
    run_dir, _ = task2_run
    pics = _prints(signals, tmp_path / "pictures")
    base = [sys.executable, str(ROOT / "predict.py"), "--run", str(run_dir), "--images", str(pics)]
    out = tmp_path / "out" / "answer.csv"
    proc = subprocess.run([*base, "--out", str(out)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-800:]
    answer = pd.read_csv(out, header=None)
    assert sorted(answer[0]) == sorted(f"photo_{n}" for n in signals)
    report = pd.read_csv(out.with_name("digitize_report.csv")).set_index("name")
    assert report.loc[[f"photo_{n}" for n in signals], "layout"].tolist() == ["3x4", "6x2", "12x1"]
    probs = pd.read_csv(out.with_name("probs.csv"), index_col=0)
    pred = predict_pictures(load_run(run_dir), pics)
    np.testing.assert_allclose(probs.loc[pred.names].to_numpy(), pred.probs, atol=1e-5)

    (pics / "broken.jpg").write_bytes(b"\xff\xd8 truncated")
    proc = subprocess.run([*base, "--out", str(tmp_path / "x.csv")], capture_output=True, text=True)
    assert proc.returncode == 2 and "broken.jpg" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "x.csv").exists()
    proc = subprocess.run(
        [*base, "--skip-bad", "--out", str(tmp_path / "y.csv")], capture_output=True, text=True
    )
    assert proc.returncode == 0 and "1 bad pictures not predicted" in proc.stderr
    assert len(pd.read_csv(tmp_path / "y.csv", header=None)) == 3
    assert "broken.jpg" in (tmp_path / "bad_records.csv").read_text()


def test_digitize_then_predict_data_is_predict_images(task2_run, signals, tmp_path):  # noqa: F811
    """The two-step route (digitize.py, then predict.py --data on its folder) gives the
    probabilities predict.py --images gives: the digitised records keep their unprinted
    stretches missing, marked by the report beside them; a NaN in a MAT record that no
    report marks is still bad input."""
    run = load_run(task2_run[0])
    pics = _prints(signals, tmp_path / "pictures")
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "digitize.py"),
            "--images",
            str(pics),
            "--out",
            str(tmp_path / "rec"),
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr[-800:]
    two_step = predict_folder(run, tmp_path / "rec", heart_rate_rule=True)
    direct = predict_pictures(run, pics, heart_rate_rule=True)
    assert sorted(two_step.names) == sorted(direct.names) and len(direct.names) == 3
    order = [two_step.names.index(n) for n in direct.names]
    np.testing.assert_allclose(two_step.probs[order], direct.probs, atol=1e-6)
    assert [two_step.labels[i] for i in order] == direct.labels
    (tmp_path / "rec" / "digitize_report.csv").unlink()
    with pytest.raises(BadInputError, match="NaN"):
        predict_folder(run, tmp_path / "rec")


def test_feature_runs_predict_pictures_and_ensemble_fuses_them(signals, physionet_t2, tmp_path):
    """Feature-model runs read the digitised prints from what they show (R peaks on the
    rhythm strip, each lead's beats in its 2.5 s), close to what they say of the full MAT
    records; ensemble.py --images fuses two k-fold runs on the pictures."""
    from ecgplot.trainer import fit

    from .test_features import features_config

    pics = _prints(signals, tmp_path / "pictures")
    runs = []
    for name, extra in (("a", []), ("b", ["features.learning_rate=0.2"])):
        cfg = features_config(physionet_t2, tmp_path, 2, f"name={name}", *extra)
        fit(cfg)
        runs.append(cfg.run_dir)
    feat = load_run(runs[0])
    from_pictures = predict_pictures(feat, pics)
    assert sorted(from_pictures.names) == sorted(f"photo_{n}" for n in signals)
    full = predict_folder(feat, physionet_t2 / "train")
    full_probs = pd.DataFrame(full.probs, index=full.names)
    for name, row in zip(from_pictures.names, from_pictures.probs):
        truth = full_probs.loc[name.removeprefix("photo_")].to_numpy()
        assert np.abs(row - truth).mean() < 0.15  # the same record, read from its picture
    out = tmp_path / "fused" / "answer.csv"
    cmd = [sys.executable, str(ROOT / "ensemble.py"), "--runs", *map(str, runs)]
    proc = subprocess.run(
        [*cmd, "--images", str(pics), "--method", "mean", "--out", str(out)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr[-800:]
    assert sorted(aiwin.read_labels(out, 2)) == sorted(from_pictures.names)

"""Paper ECG pictures: paper styles of the renderer, photo augmentation, deskew and crop,
and predict.py --images end to end, on real records."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import cv2
import numpy as np
import pandas as pd
import pytest

from ecgplot import aiwin
from ecgplot.aiwin import BadInputError
from ecgplot.infer import load_run, predict_folder, predict_pictures
from ecgplot.photo import Creases, PhotoAugConfig, Scribbles, Stains, build_photo_augment
from ecgplot.pictures import ink, picture_to_plot, read_picture, rotate, skew_angle
from ecgplot.render import PAPERS, RenderConfig, layout_panels, render_plot

from .conftest import ROOT
from .printsim import PrintStyle, draw_print, photograph
from .test_predict import task2_run  # noqa: F401 (fixture)

PAPER = RenderConfig(size=384, grid=True, color=True, paper="red", mm_per_mv=10.0)


@pytest.fixture(scope="module")
def signals(physionet_t2):
    names = ["00008_hr", "A0689", "JS03291"]
    return {n: aiwin.read_record(physionet_t2 / "train" / f"{n}.mat").signal for n in names}


@pytest.mark.parametrize("paper", sorted(PAPERS))
def test_paper_colours_put_the_grid_in_colour_and_the_trace_in_ink(signals, paper):
    sig = signals["A0689"]
    img = render_plot(sig, dataclasses.replace(PAPER, paper=paper))
    assert img.shape == (384, 384, 3) and img.dtype == np.uint8
    background, minor, major, ink_rgb = PAPERS[paper]
    plain = render_plot(sig, dataclasses.replace(PAPER, grid=False, color=False))
    trace = plain < 64  # where the grayscale render has solid ink
    assert np.abs(img[trace].astype(int) - ink_rgb).max() < 70
    colours = {tuple(c) for c in img[~(plain < 250)].reshape(-1, 3)}
    grid_pixels = img[plain == 255].reshape(-1, 3)
    assert {tuple(map(int, c)) for c in np.unique(grid_pixels, axis=0)} >= {background, major}
    assert len(colours) > 10  # anti-aliased ink over the paper
    # the model sees the same trace whatever the paper colour
    gray = ink(img)
    assert (gray[trace] < 128).mean() > 0.95 and (gray[plain == 255] > 200).mean() > 0.95


def test_minor_grid_calibration_and_layouts(signals):
    sig = signals["00008_hr"]
    gray = RenderConfig(size=384, grid=True, mm_per_mv=10.0)
    with_minor = render_plot(np.zeros_like(sig), gray)
    without = render_plot(np.zeros_like(sig), dataclasses.replace(gray, minor_grid=False))
    assert (with_minor < 255).mean() > 2 * (without < 255).mean() > 0
    for layout in ("rows12", "grid3x4", "grid6x2"):
        cfg = dataclasses.replace(PAPER, layout=layout, grid=False, calibration=True)
        flat = render_plot(np.zeros_like(sig), cfg)
        rows = {p.y_mid for p in layout_panels(layout, 384) if p.x0 == 0}
        pulse = cfg.px_per_mv
        for y in rows:  # a 1 mV pulse at the start of each row of panels, none elsewhere
            top = int(round(y - pulse))
            assert flat[top, 1 : int(0.2 * cfg.px_per_s), 0].min() < 128
            assert flat[top, int(0.5 * cfg.px_per_s) :, 0].min() > 200
    with pytest.raises(ValueError, match="unknown paper 'purple'"):
        RenderConfig(paper="purple")


@pytest.mark.parametrize(
    "transform",
    [Creases(p=1), Stains(p=1), Scribbles(p=1)],
    ids=["creases", "stains", "scribbles"],
)
def test_paper_wear_transforms_change_the_picture_and_keep_its_size(signals, transform):
    img = render_plot(signals["A0689"], PAPER)
    transform.set_random_seed(3)
    out = transform(image=img)["image"]
    assert out.shape == img.shape and out.dtype == np.uint8
    changed = np.abs(out.astype(int) - img).max(axis=2) > 20
    assert 0.001 < changed.mean() < 0.5  # a real, local change


def test_photo_pipeline_is_seeded_and_every_step_acts(signals):
    img = render_plot(signals["A0689"], PAPER)
    cfg = PhotoAugConfig(enabled=True)
    aug = build_photo_augment(cfg)
    outs = []
    for seed in (1, 1, 2):
        aug.set_random_seed(seed)
        outs.append(aug(image=img)["image"])
    np.testing.assert_array_equal(outs[0], outs[1])
    assert not np.array_equal(outs[0], outs[2]) and outs[2].shape == img.shape
    names = {type(t).__name__ for t in aug.transforms}
    assert {"Perspective", "Affine", "ImageCompression", "PlanckianJitter", "RandomShadow"} <= names
    everything = {f: 1.0 for f in PhotoAugConfig.__dataclass_fields__ if f.endswith("_p")}
    strong = build_photo_augment(dataclasses.replace(cfg, **everything))
    for t in strong.transforms:  # each step alone changes the picture, keeping its size
        single = type(strong)([t]) if not hasattr(t, "transforms") else type(strong)([t])
        single.set_random_seed(5)
        out = single(image=img)["image"]
        assert out.shape == img.shape, type(t).__name__
        assert np.abs(out.astype(int) - img).mean() > 0.2, type(t).__name__
    assert build_photo_augment(PhotoAugConfig()) is None


@pytest.mark.parametrize("paper,grid", [("red", True), ("blue", True), ("gray", False)])
def test_deskew_finds_the_rotation_within_a_degree(signals, paper, grid):
    cfg = dataclasses.replace(PAPER, paper=paper, grid=grid, size=512)
    for sig in signals.values():
        img = render_plot(sig, cfg)
        for angle in (-8.0, -2.5, 0.0, 3.0, 6.0):
            turned = rotate(img, angle, (255, 255, 255))
            found = skew_angle(cv2.cvtColor(turned, cv2.COLOR_RGB2GRAY))
            assert abs(found - angle) < 1.0, (paper, angle, found)


def test_a_rotated_photo_comes_back_close_to_the_clean_plot(signals):
    """picture_to_plot of a rotated, shadowed, JPEG'd photo of a paper-style render is
    close to the same pipeline on the clean paper render, and far from another record."""
    clean_cfg = dataclasses.replace(PAPER, size=512)
    views = {n: picture_to_plot(render_plot(s, clean_cfg), 256) for n, s in signals.items()}
    photo = build_photo_augment(
        PhotoAugConfig(enabled=True, rotate_p=1, rotate_deg=6, perspective=0.02, crop_pad_p=0)
    )
    photo.set_random_seed(11)
    picture = photo(image=render_plot(signals["A0689"], clean_cfg))["image"]
    seen = picture_to_plot(picture, 256)
    assert seen.shape == (256, 256)

    def distance(a, b):
        return np.abs(
            cv2.GaussianBlur(a, (9, 9), 0).astype(float) - cv2.GaussianBlur(b, (9, 9), 0)
        ).mean()

    assert distance(seen, views["A0689"]) < 0.8 * min(
        distance(seen, views["00008_hr"]), distance(seen, views["JS03291"])
    )


def test_pictures_that_are_not_ecgs_are_bad_input(tmp_path):
    blank = tmp_path / "blank.png"
    cv2.imwrite(str(blank), np.full((300, 400, 3), 255, np.uint8))
    with pytest.raises(BadInputError, match="does not look like an ECG plot"):
        picture_to_plot(read_picture(blank), 128, blank)
    text = tmp_path / "notes.jpg"
    text.write_text("not an image")
    with pytest.raises(BadInputError, match="not a readable image") as err:
        read_picture(text)
    assert "notes.jpg" in str(err.value)


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


def test_paper_style_training_caches_augmented_views(small_t2, tmp_path):
    """render.color + photo_aug with a cached trunk: each training record's
    train.cache_augmented photo views are computed once and cached (validation records once,
    unaugmented), epochs cycle through them, and the run predicts pictures."""
    from ecgplot.data import load_split
    from ecgplot.trainer import fit

    from .test_train import tiny_config

    cache = tmp_path / "cache"
    cfg = tiny_config(
        small_t2,
        tmp_path,
        "render.color=true",
        "render.grid=true",
        "render.paper=pink",
        "photo_aug.enabled=true",
        "model.freeze_stages=4",
        "train.cache_trunk=true",
        f"train.cache_dir={cache}",
        "train.cache_augmented=2",
        "train.epochs=3",
    )
    fit(cfg)
    split = load_split(cfg, 0)
    maps = list(cache.glob("trunk-*/*.npy"))
    assert len(maps) == 2 * len(split.train) + len(split.val)
    with pytest.raises(ValueError, match="needs train.cache_augmented > 0"):
        tiny_config(
            small_t2,
            tmp_path,
            "render.color=true",
            "photo_aug.enabled=true",
            "model.freeze_stages=4",
            "train.cache_trunk=true",
        )
    with pytest.raises(ValueError, match="photo_aug.enabled needs render.color"):
        tiny_config(small_t2, tmp_path, "photo_aug.enabled=true")


def test_every_test_picture_style_reads_back_as_an_ecg(signals, tmp_path):
    """The robustness benchmark's picture styles (and the files write_picture makes):
    each is a real change from the clean render, and the picture pipeline accepts it."""
    from ecgplot.photo import make_picture, picture_styles, write_picture

    sig = signals["JS03291"]
    clean = make_picture(sig, "clean", 384, 0)
    for style in picture_styles(384):
        pic = make_picture(sig, style, 384, 0)
        assert pic.shape == (384, 384, 3)
        if style != "clean":
            assert np.abs(pic.astype(int) - clean).mean() > 5, style
        path = tmp_path / f"{style.replace(' ', '_').replace('/', '')}.jpg"
        write_picture(path, sig, style, 384, 0)
        assert picture_to_plot(read_picture(path), 128, path).shape == (128, 128)
    with pytest.raises(ValueError, match="unknown picture style 'fax'"):
        make_picture(sig, "fax", 384, 0)

"""Print-aware training (``print_aug``): a share of the training records shown as a 3x4
print shows them, for image runs (live and through the cached trunk) and 1-D runs, on
real records."""

from __future__ import annotations

import numpy as np
import pytest

from ecgplot import aiwin
from ecgplot.data import ECGImageDataset, load_split
from ecgplot.inputs import render_images
from ecgplot.prints import printed_mask
from ecgplot.signal_data import SignalDataset
from ecgplot.trainer import fit
from ecgplot.trunk_cache import cached_dataset

from .conftest import tiny_config
from .test_signal1d import signal1d_config


def _beats_config(data, out, *extra: str):
    """The main CPU recipe's two beat renderings, small."""
    return tiny_config(
        data,
        out,
        "render.layout=overlay12",
        "render.mm_per_mv=5.0",
        "views=[{layout: beats12, mm_per_mv: 2.5}]",
        "model.stages=4",
        "model.freeze_stages=4",
        "model.head=rows",
        *extra,
    )


def test_a_share_of_training_records_is_rendered_as_a_print(physionet_t2, tmp_path):
    cfg = _beats_config(physionet_t2, tmp_path, "print_aug.p=0.5")
    split = load_split(cfg, 0)
    train = ECGImageDataset(cfg, split.train, split.labels, train=True)
    first = [train.shown_as_print(i) for i in range(len(train))]
    shown = []
    for epoch in range(4):
        train.set_epoch(epoch)
        shown.append([train.shown_as_print(i) for i in range(len(train))])
    shown = np.array(shown)
    assert 0.3 < shown.mean() < 0.7, shown.mean()
    assert not (shown == shown[0]).all(), "the same records every epoch"
    assert first == list(shown[0]), "the draw is not seeded"
    train.set_epoch(0)
    index = int(np.flatnonzero(shown[0])[0])
    record = aiwin.read_record(physionet_t2 / "train" / f"{split.train[index]}.mat").signal
    masked = record.copy()
    masked[~printed_mask("3x4")] = np.nan
    got = train[index][0]
    assert np.array_equal(got, np.stack(render_images(masked, cfg)[0]))
    assert not np.array_equal(got, np.stack(render_images(record, cfg)[0]))
    val = ECGImageDataset(cfg, split.val, split.labels, train=False)
    assert not any(val.shown_as_print(i) for i in range(len(val)))


def test_cached_trunk_serves_the_drawn_records_print_maps(physionet_t2, tmp_path):
    """Plain and print maps are both cached (each training record twice, validation
    once); each epoch serves the print map exactly for the records drawn as prints; the
    run trains end to end."""
    cache = tmp_path / "cache"
    cfg = _beats_config(
        physionet_t2,
        tmp_path,
        "print_aug.p=0.5",
        "train.cache_trunk=true",
        f"train.cache_dir={cache}",
        "train.epochs=2",
    )
    fit(cfg)
    split = load_split(cfg, 0)
    views = 2
    assert len(list(cache.glob("trunk-*/*.npy"))) == views * (2 * len(split.train) + len(split.val))
    from ecgplot.model import build_model

    model = build_model(cfg.model, cfg.num_classes, two_stream=False, views=views)
    ds = cached_dataset(model, ECGImageDataset(cfg, split.train, split.labels, train=True), cfg)
    for epoch in range(2):
        ds.set_epoch(epoch)
        for i in range(len(ds)):
            want = ds.prints["3x4"][i] if ds.images.shown_as_print(i) else ds.copies[0][i]
            assert np.array_equal(ds[i][0], want.astype(np.float32))
    assert not np.array_equal(ds.prints["3x4"], ds.copies[0])


def test_cached_trunk_keeps_every_layouts_print_and_serves_the_drawn_one(physionet_t2, tmp_path):
    """``print_aug.layout: [3x4, 6x2, 6x2]``: every training record's maps as each
    layout's print are cached (not one drawn print per record), and each epoch serves a
    record drawn as a print the map of the layout drawn for it, which is the map of
    that print rendered live; 6x2 is drawn about twice as often as 3x4."""
    from ecgplot.model import build_model

    cfg = _beats_config(
        physionet_t2,
        tmp_path,
        "print_aug.p=1.0",
        "print_aug.layout=[3x4, 6x2, 6x2]",
        "train.cache_trunk=true",
        f"train.cache_dir={tmp_path / 'cache'}",
    )
    split = load_split(cfg, 0)
    model = build_model(cfg.model, cfg.num_classes, two_stream=False, views=2)
    live = ECGImageDataset(cfg, split.train, split.labels, train=True)
    ds = cached_dataset(model, ECGImageDataset(cfg, split.train, split.labels, train=True), cfg)
    assert set(ds.prints) == {"3x4", "6x2"}
    assert not np.array_equal(ds.prints["3x4"], ds.prints["6x2"])
    drawn = []
    for epoch in range(6):
        ds.set_epoch(epoch)
        for i in range(len(ds)):
            layout = ds.images.print_layout_of(i)
            drawn.append(layout)
            assert np.array_equal(ds[i][0], ds.prints[layout][i].astype(np.float32))
    assert 0.15 < drawn.count("3x4") / len(drawn) < 0.5, drawn.count("3x4") / len(drawn)
    # the cached print of a record is what live training renders for that layout
    index = drawn.index("6x2") % len(ds)
    live.print_layout = "6x2"
    record = aiwin.read_record(physionet_t2 / "train" / f"{split.train[index]}.mat").signal
    masked = record.copy()
    masked[~printed_mask("6x2", ())] = np.nan
    assert np.array_equal(
        live.images(split.train[index], as_print=True)[0][0], render_images(masked, cfg)[0][0]
    )


def test_signal1d_reads_a_print_as_zeros_where_nothing_is_shown(physionet_t2, tmp_path):
    cfg = signal1d_config(
        physionet_t2, tmp_path, "print_aug.p=1.0", "print_aug.layout=3x4", "print_aug.errors=false"
    )
    split = load_split(cfg, 0)
    x, _ = SignalDataset(cfg, split.train, split.labels, train=True)[0]
    quarter = x.shape[1] // 4
    v1 = aiwin.LEADS.index("V1")  # 3x4: V1 in the third column, 5-7.5 s
    hidden = np.r_[x[v1, : 2 * quarter - 10], x[v1, 3 * quarter + 10 :]]
    assert np.abs(hidden).max() < 1e-3  # no ringing from the edges of the shown stretch
    assert x[v1, 2 * quarter + 10 : 3 * quarter - 10].std() > 0
    assert (np.abs(x[aiwin.LEADS.index("II")]) > 0).mean() > 0.9  # the rhythm strip
    plain, _ = SignalDataset(cfg, split.val, split.labels, train=False)[0]
    assert (np.abs(plain[v1]) > 0).mean() > 0.9


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["model.kind=features"], "use features.print_copies"),
        (["data.source=png", "data.processed=x"], "needs data.source: signal"),
    ],
)
def test_print_aug_rules(physionet_t2, tmp_path, extra, message):
    with pytest.raises(ValueError, match=message):
        tiny_config(physionet_t2, tmp_path, "print_aug.p=0.5", *extra)


def test_prints_drawn_from_several_layouts_carry_the_digitisers_errors(physionet_t2):
    """``print_aug.layout: [3x4, 6x2, 12x1]`` with ``errors``: each shown print is one of
    the layouts (its unprinted samples missing), every panel centred on its own median
    as the digitiser reads it, peaks cut, gains off by a few percent; the same key draws
    the same print, and the samples differ from the plain masked record."""
    from ecgplot.augment import AsPrint, DigitiserErrors
    from ecgplot.prints import RHYTHM_DEFAULT, panels

    signal = aiwin.read_record(physionet_t2 / "train" / "00008_hr.mat").signal
    as_print = AsPrint(1.0, ["3x4", "6x2", "12x1"], errors=True)
    masks = {
        layout: printed_mask(layout, RHYTHM_DEFAULT[1] if layout == "3x4" else ())
        for layout in ("3x4", "6x2", "12x1")
    }
    seen = set()
    limit = DigitiserErrors().clip_mv[1] + 5 * DigitiserErrors().noise_mv
    for index in range(30):
        shown = as_print.mask(signal, (0, 0, index))
        assert np.array_equal(shown, as_print.mask(signal, (0, 0, index)), equal_nan=True)
        layout = next(k for k, m in masks.items() if (np.isfinite(shown) <= m).all())
        seen.add(layout)
        unread = masks[layout] & ~np.isfinite(shown)  # at most one panel left unread
        assert unread.sum() <= max(p.t1 - p.t0 for p in panels(layout)) * aiwin.FS
        assert np.nanmax(np.abs(shown)) <= limit
        cells = panels(layout, RHYTHM_DEFAULT[1] if layout == "3x4" else ())
        for k, p in enumerate(cells):
            if any(q.lead == p.lead for q in cells[k + 1 :]):
                continue  # lead II's 3x4 panel: the rhythm strip is read over it
            piece = shown[p.lead, int(p.t0 * aiwin.FS) : int(p.t1 * aiwin.FS)]
            if np.isfinite(piece).any():
                assert abs(np.nanmedian(piece)) < 0.02  # centred, up to the pixel noise
    assert seen == set(masks)
    plain = AsPrint(1.0, "12x1").mask(signal, (0, 0, 0))
    errs = AsPrint(1.0, "12x1", errors=True).mask(signal, (0, 0, 0))
    centred = plain - np.nanmedian(plain, axis=1, keepdims=True)
    assert 0.01 < np.nanmean(np.abs(errs - centred)) < 0.2  # off, but still the record


def test_feature_copies_in_every_layout_with_errors(physionet_t2, tmp_path):
    """``features.print_copies: [3x4, 6x2, 12x1]`` trains on the records plus one copy
    per layout (cached apart from the plain copies), and scores its held-out records."""
    from ecgplot.experiment import load_experiment

    from .conftest import ROOT

    cfg = load_experiment(
        ROOT / "configs" / "features_task2.yaml",
        [
            f"data.root={physionet_t2}",
            f"output_dir={tmp_path}",
            "data.n_folds=3",
            "data.fold=0",
            "features.max_iter=20",
            "features.min_samples_leaf=3",
            "features.print_copies=[3x4, 6x2, 12x1]",
            "features.print_errors=true",
        ],
    )
    fit(cfg)
    caches = sorted(p.name for p in cfg.run_dir.glob("*errors*"))
    assert len(caches) == 3 and all(k in " ".join(caches) for k in ("3x4", "6x2", "12x1"))
    assert (cfg.run_dir / "fold0" / "val_probs.csv").is_file()

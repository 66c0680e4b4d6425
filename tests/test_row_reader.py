"""The learned row reader: where its input and output sit on the page, that training
teaches it, and that it reads tall complexes crossing tight rows of prints drawn by an
independent program (drawers/cart.py) of fixture records it never saw in training."""

from __future__ import annotations

import json

import numpy as np
import pytest

from drawers import cart
from ecgplot.digitize import digitize_picture, row_net, trace
from ecgplot.digitize.quality import record_snr
from ecgplot.digitize.row_train import HELD_OUT_RECORDS, RowTraining, train_row_reader
from ecgplot.physionet import list_source
from tests.conftest import FIXTURE_DATA


@pytest.fixture(scope="module")
def records() -> dict[str, np.ndarray]:
    return {rec.name: rec.signal for rec in (src.load() for src in list_source(FIXTURE_DATA))}


class InkNet:
    """Stands in for the network: each column's logits are its ink, sharpened."""

    def __call__(self, x):
        import paddle

        return paddle.to_tensor(40.0 * x.numpy()[:, 0])


def test_a_row_is_read_where_its_ink_lies_on_the_page():
    """A sloped line drawn on a mask of anisotropic resolution comes back at its own
    native rows, to within half a bin, through the crop, resampling and decoding."""
    px_per_mm = (7.3, 6.1)
    mask = np.zeros((900, 1900), bool)
    cols = np.arange(100, 1800)
    y = 420.0 + 0.05 * (cols - 100)  # continuous rows: pixel i spans [i, i + 1)
    mask[np.floor(y).astype(int), cols] = True
    mask[np.floor(y).astype(int) + 1, cols] = True  # two pixels thick
    centre = np.floor(y) + 1.0
    got = row_net.read_row(InkNet(), mask, 450.0, 100, 1800, px_per_mm)
    bin_px = px_per_mm[1] / row_net.SY
    inner = slice(20, -20)
    assert np.abs(got[inner] - centre[inner]).max() <= 0.5 * bin_px


def test_training_on_drawn_rows_lowers_the_error_on_held_out_records(records, tmp_path):
    """A few dozen steps on rows drawn from fixture records: the median column error on
    rows of other records falls from tens of bins to a few."""
    train = [records[k] for k in sorted(records) if k not in HELD_OUT_RECORDS][:6]
    held_out = [records[k] for k in HELD_OUT_RECORDS[:2]]
    plan = RowTraining(pages=12, steps=40, batch=4, window=128)
    figures = train_row_reader(train, held_out, tmp_path / "reader.pdparams", plan)
    assert (tmp_path / "reader.pdparams").is_file()
    assert figures["held_out_error_bins_before"] > 10
    assert figures["held_out_error_bins"] < 3, figures


def test_without_its_weights_the_digitiser_reads_with_the_tracer(monkeypatch, tmp_path):
    """The weights are made on the user's machine; where they are not, nothing fails."""
    monkeypatch.setenv("ECGPLOT_WEIGHTS", str(tmp_path))
    assert row_net.load_reader() is None


@pytest.fixture(scope="module")
def made_reader():
    """The reader whose weights ``tools/train_row_reader.py`` made on this machine (30-60
    minutes on 2 cores, so not in the test run; a reader trained for 300 steps gains
    only 0.2 dB here). Skipped where they are not made."""
    net = row_net.load_reader()
    if net is None:
        pytest.skip(f"needs {row_net.weights_path()}: python tools/train_row_reader.py")
    used = json.loads(row_net.weights_path().with_suffix(".json").read_text())
    assert not set(HELD_OUT_RECORDS) & set(used["trained_on"]), "trained on held-out records"
    return net


@pytest.mark.parametrize("seed", [0, 1])
def test_tall_precordial_complexes_of_a_tight_12x1_print_read_better_learned(
    records, made_reader, monkeypatch, seed
):
    """12x1 at 10 mm/mV, rows 14 mm apart: V2-V5's complexes (4-5 mV peak to peak in
    these held-out records) merge with their neighbours' into one pillar of ink, read
    2-4 dB by the tracer alone; with the learned reader's help they gain over 1.5 dB
    (median of the leads). The two tallest held-out records (6-7 mV, crossing four
    rows, beyond the reader's +-38 mm) are left out: neither reads them."""
    learned, classical = [], []
    for name in HELD_OUT_RECORDS[2:]:
        style = cart.CartStyle(layout="12x1", row_pitch_mm=14.0, mm_per_mv=10.0, dpi=160)
        page = cart.draw_cart(records[name], style)
        picture = cart.scanned(page.image, np.random.default_rng(seed))
        got = digitize_picture(picture, name)
        learned.append(record_snr(records[name], got.signal, page.printed)[7:11])
        with monkeypatch.context() as m:
            m.setattr(trace, "LEARNED_ROWS", False)
            old = digitize_picture(picture, name)
        classical.append(record_snr(records[name], old.signal, page.printed)[7:11])
    learned, classical = np.concatenate(learned), np.concatenate(classical)
    assert np.median(learned) >= np.median(classical) + 1.5, (learned, classical)

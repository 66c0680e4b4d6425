"""Renderers: size, determinism, fixed physical scale, clipping, reference agreement, STFT."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from ecgplot import aiwin, render
from ecgplot.aiwin import LEADS
from ecgplot.experiment import load_experiment
from ecgplot.inputs import render_images
from ecgplot.render import (
    LAYOUTS,
    RASTERIZERS,
    RenderConfig,
    baseline,
    layout_panels,
    median_beats,
    render_plot,
    render_plot_reference,
    render_stft,
)
from tests.conftest import ROOT

UNFILTERED = RenderConfig(highpass_hz=None)


@pytest.fixture(scope="module")
def real_signals(physionet_t2):
    names = ["00008_hr", "A0689", "JS03291"]
    return {n: aiwin.read_record(physionet_t2 / "train" / f"{n}.mat").signal for n in names}


def _trace_y(img: np.ndarray, x: int, top: float, bottom: float) -> float:
    """Darkness-weighted mean row of the trace in column ``x`` between two rows."""
    rows = np.arange(int(top), int(bottom))
    ink = 255.0 - img[rows, x]
    return float((rows * ink).sum() / ink.sum())


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_size_dtype_and_determinism(real_signals, layout):
    cfg = RenderConfig(layout=layout, grid=True, lead_labels=True)
    sig = real_signals["00008_hr"]
    img = render_plot(sig, cfg)
    assert img.shape == (640, 640) and img.dtype == np.uint8
    np.testing.assert_array_equal(img, render_plot(sig.copy(), cfg))
    assert (img < 128).mean() > 0.005  # traces were drawn
    assert not np.array_equal(img, render_plot(real_signals["A0689"], cfg))


def test_layout_panels_cover_all_leads():
    assert [p.lead for p in layout_panels("rows12", 640)] == list(range(12))
    grid = layout_panels("grid3x4", 640)
    assert len(grid) == 13 and sorted(p.lead for p in grid[:12]) == list(range(12))
    # clinical columns: I,II,III | aVR,aVL,aVF | V1-V3 | V4-V6, then a lead-II rhythm strip
    assert [grid[i].lead for i in range(4)] == [0, 3, 6, 9]  # the first row, left to right
    assert [p.lead for p in grid if p.x0 == 0][:3] == [0, 1, 2]  # the first column
    assert grid[12].lead == 1 and (grid[12].t0, grid[12].t1) == (0.0, 10.0)
    with pytest.raises(ValueError, match="unknown layout"):
        layout_panels("spiral", 640)


def test_median_beats_of_a_real_record(real_signals):
    """beats12 draws each lead's median beat across the width: the R peak of lead II sits
    at 0.4 s of the 0.9 s window, the scale follows the window (25 mm/s over 0.9 s), and a
    record without beats gives flat lines, not an error."""
    sig = real_signals["00008_hr"]
    beats = median_beats(render.prepare_signal(sig, UNFILTERED), aiwin.FS)
    assert beats.shape == (12, round(render.BEAT_SECONDS * aiwin.FS))
    r_at = -render.BEAT_WINDOW_S[0] * aiwin.FS
    assert abs(int(np.abs(beats[1]).argmax()) - r_at) <= 0.03 * aiwin.FS
    cfg = RenderConfig(size=384, layout="beats12", mm_per_mv=2.5)
    assert cfg.px_per_mm == pytest.approx(384 / (render.BEAT_SECONDS * 25))
    img = render_plot(sig, cfg)
    band = img[32:64]  # lead II: its R peak drawn near x = 0.4 / 0.9 of the width
    ink = band < 128
    top = np.where(ink.any(axis=0), ink.argmax(axis=0), len(band))  # highest ink per column
    assert abs(int(top.argmin()) - 384 * r_at / beats.shape[1]) <= 12
    flat = render_plot(np.zeros_like(sig), cfg)
    assert (flat < 128).any() and (flat < 128).sum(axis=0).max() <= 12 * 2


def test_overlaid_beats_show_rhythm_irregularity(physionet_t2):
    """overlay12 superimposes up to 12 windows of 2.4 s centred on R peaks: the next R
    peak lands at one place in regular rhythms and spreads in atrial fibrillation and
    sinus arrhythmia; the image holds the ink of every beat (darkest wins)."""
    cfg = RenderConfig(size=384, layout="overlay12", mm_per_mv=5)
    fs = aiwin.FS

    def windows(name: str) -> np.ndarray:
        sig = aiwin.read_record(physionet_t2 / "train" / f"{name}.mat").signal
        return render.prepare_signal(sig, cfg)

    def next_r_spread(w: np.ndarray) -> float:  # s; lead II after the centre's QRS and T
        after = w[:, 1, round((-render.OVERLAY_WINDOW_S[0] + 0.3) * fs) :]
        return float(np.std(np.abs(after).argmax(axis=1)) / fs)

    regular = [next_r_spread(windows(n)) for n in ("00001_hr", "JS03291", "E07506")]
    irregular = [next_r_spread(windows(n)) for n in ("A0689", "00017_hr", "E05526", "00011_hr")]
    assert max(regular) < 0.05 < min(irregular)
    w = windows("A0689")
    assert 2 <= len(w) <= render.OVERLAY_BEATS and w.shape[1:] == (12, 1200)
    img = render.draw_plot(w, cfg)
    for one in w:
        assert (img <= render.draw_plot(one, cfg)).all()


def test_the_image_recipe_draws_no_texture_a_digitised_print_lacks(real_signals):
    """A digitised print is smooth (pen width, blur), a recording is not: 0.02 mV of
    white noise thickens every trace of an unfiltered rendering by a quarter, which the
    task-2 image model had learned to read as sinus bradycardia (docs/experiments.md).
    The recipe's renderings (cpu_small, both views) are low-passed at 40 Hz: the same
    noise barely changes their ink."""
    cfg = load_experiment(ROOT / "configs" / "cpu_small_task2.yaml")
    unfiltered = load_experiment(
        ROOT / "configs" / "cpu_small_task2.yaml", ["render.lowpass_hz=null"]
    )
    rng = np.random.default_rng(0)

    def ink(signal: np.ndarray, c) -> float:
        return float((np.stack(render_images(signal, c)[0]) < 128).mean())

    for sig in real_signals.values():
        noisy = sig + rng.normal(0, 0.02, sig.shape).astype(np.float32)
        grown = ink(noisy, cfg) / ink(sig, cfg) - 1
        grown_unfiltered = ink(noisy, unfiltered) / ink(sig, unfiltered) - 1
        assert grown_unfiltered > 0.15
        assert grown < 0.3 * grown_unfiltered


def test_fixed_physical_scale():
    """A +1 mV plateau moves the trace by exactly px_per_mv pixels, the same in every record."""
    cfg = UNFILTERED
    sig = np.zeros((12, 5000), np.float32)
    sig[:, 2500:] = 1.0
    img = render_plot(sig, cfg)
    row_h = 640 / 12
    base = _trace_y(img, 100, 0, row_h)  # lead I, before the step
    high = _trace_y(img, 500, 0, row_h)  # lead I, after the step
    assert abs((base - high) - cfg.px_per_mv) < 0.5
    assert cfg.px_per_mv == pytest.approx(640 / 250 * 5)  # 2.56 px/mm x 5 mm/mV
    # the median (0.5 mV) sits mid-panel
    assert abs(base - (row_h / 2 + cfg.px_per_mv / 2)) < 1.0
    # No per-record autoscaling: a 2x larger record draws a 2x larger deflection.
    img2 = render_plot(2 * sig, cfg)
    span2 = _trace_y(img2, 100, 0, row_h) - _trace_y(img2, 500, 0, row_h)
    assert abs(span2 - 2 * cfg.px_per_mv) < 0.5


def test_large_amplitudes_are_clipped_to_their_panel():
    sig = np.zeros((12, 5000), np.float32)
    sig[0, ::2] = 50.0  # 50 mV spikes in lead I only
    img = render_plot(sig, UNFILTERED)
    row_h = 640 / 12
    ink = np.flatnonzero((img < 200).any(axis=1))
    lead1 = ink[ink < row_h]
    assert lead1.min() == 0  # clipped at the panel edge...
    assert not np.any((ink > row_h) & (ink < row_h * 1.5 - 2))  # ...not drawn into lead II


def _agreement(fast: np.ndarray, ref: np.ndarray) -> tuple[float, float]:
    """Mean absolute grey-level difference and intersection-over-union of the dark pixels."""
    ink_f, ink_r = fast < 128, ref < 128
    return float(np.abs(fast.astype(int) - ref).mean()), (ink_f & ink_r).sum() / (
        ink_f | ink_r
    ).sum()


@pytest.mark.parametrize("rasterizer", sorted(RASTERIZERS))
@pytest.mark.parametrize("layout", ["rows12", "grid3x4"])
def test_fast_renderer_matches_matplotlib_reference(real_signals, layout, rasterizer):
    cfg = RenderConfig(layout=layout, grid=True, rasterizer=rasterizer)
    for sig in real_signals.values():
        fast, ref = render_plot(sig, cfg), render_plot_reference(sig, cfg)
        assert fast.shape == ref.shape
        diff, iou = _agreement(fast, ref)
        assert diff < 4 and iou > 0.7
    # ...and the comparison can tell different records apart
    other = render_plot_reference(real_signals["A0689"], cfg)
    assert _agreement(render_plot(real_signals["JS03291"], cfg), other)[1] < 0.3


@pytest.mark.parametrize("line_width", [2, 3])
def test_thick_lines_match_matplotlib_reference(real_signals, line_width):
    cfg = RenderConfig(line_width=line_width)
    for sig in real_signals.values():
        diff, iou = _agreement(render_plot(sig, cfg), render_plot_reference(sig, cfg))
        assert diff < 6 and iou > 0.7


def test_level_trace_is_one_pixel_of_ink_per_column():
    """Anti-aliasing of the span rasteriser: a level trace between two pixel rows shares
    one pixel's worth of ink between them, in every column, and touches nothing else."""
    img = 255 - render_plot(np.zeros((12, 5000), np.float32), UNFILTERED).astype(int)
    for p in layout_panels("rows12", 640):
        band = img[int(p.y_top) : int(p.y_bottom) + 1]
        ink_rows = np.flatnonzero(band.any(axis=1)) + int(p.y_top)
        within_a_pixel = np.arange(np.ceil(p.y_mid - 0.99), np.floor(p.y_mid + 0.99) + 1)
        assert list(ink_rows) == list(within_a_pixel)
        np.testing.assert_allclose(band.sum(axis=0), 255, atol=1)


def test_baseline_level_from_100hz_samples_matches_full_median(real_signals):
    for sig in real_signals.values():
        full = np.median(sig, axis=-1, keepdims=True)
        np.testing.assert_allclose(baseline(sig), full, atol=0.02)  # mV; 0.26 px at 5 mm/mV
    assert baseline(np.arange(1000.0)[None], fs=100).item() == pytest.approx(499.5)


def test_line_width_and_grid_options(real_signals):
    sig = real_signals["JS03291"]
    thin = render_plot(sig, RenderConfig())
    thick = render_plot(sig, RenderConfig(line_width=3))
    assert (thick < 128).sum() > 2 * (thin < 128).sum()
    gridded = render_plot(np.zeros((12, 5000), np.float32), RenderConfig(grid=True))
    plain = render_plot(np.zeros((12, 5000), np.float32), RenderConfig())
    assert (gridded < 255).mean() > 0.3 > (plain < 255).mean()


def test_stft_image_fixed_db_scale_and_frequency_axis():
    cfg = RenderConfig()
    t = np.arange(5000) / 500
    sig = np.zeros((12, 5000), np.float32)
    sig[0] = 0.5 * np.sin(2 * np.pi * 20 * t)  # 20 Hz in lead I
    img = render_stft(sig, cfg)
    assert img.shape == (640, 640) and img.dtype == np.uint8
    tile = img[:160, :213]  # lead I: top-left of 4 rows x 3 columns
    row = int(np.argmax(tile.mean(axis=1)))
    freq = (1 - (row + 0.5) / 160) * cfg.stft.fmax_hz  # low frequencies at the bottom
    assert abs(freq - 20) < 3
    assert img[:160, 213:].max() == 0  # silent leads stay black
    louder = render_stft(10 * sig, cfg)  # fixed dB range: 10x amplitude is brighter
    assert louder[:160, :213].mean() > tile.mean() + 10


def test_render_config_rejects_unknown_options():
    with pytest.raises(ValueError, match="unknown rasterizer 'svg'"):
        RenderConfig(rasterizer="svg")
    with pytest.raises(ValueError, match="unknown layout 'spiral'"):
        RenderConfig(layout="spiral")
    with pytest.raises(ValueError, match="line_width"):
        RenderConfig(line_width=0)


def test_render_config_is_hashable_and_px_scale():
    cfg = RenderConfig(size=320, mm_per_mv=10)
    same, other = dataclasses.replace(cfg), dataclasses.replace(cfg, size=640)
    assert same == cfg and same is not cfg and hash(same) == hash(cfg)
    assert other != cfg and len({cfg, same, other}) == 2  # a usable cache key
    assert cfg.px_per_s == pytest.approx(32.0) and cfg.px_per_mv == pytest.approx(12.8)


def test_stft12_view_puts_each_lead_in_its_band_with_qrs_energy_at_the_r_peaks(real_signals):
    """The STFT view (layout stft12): lead i's spectrogram in band i, time across, so the
    QRS complexes (broadband energy) fall at the R peaks' times; a flat lead is black."""
    from ecgplot.signal import r_peaks

    sig = real_signals["00008_hr"].copy()
    sig[LEADS.index("V3")] = 0.0
    cfg = RenderConfig(layout="stft12", size=384)
    img = render_plot(sig, cfg)
    assert img.shape == (384, 384)
    band = 384 // 12
    v3 = LEADS.index("V3")
    assert img[v3 * band + 1 : (v3 + 1) * band - 1].max() == 0
    ii = LEADS.index("II")
    upper = img[ii * band : ii * band + band // 2].astype(float)  # 25-50 Hz: QRS, not P or T
    energy = upper.mean(axis=0)
    cols = (r_peaks(sig[ii], aiwin.FS) / aiwin.N_SAMPLES * 384).astype(int)
    cols = cols[(cols > 10) & (cols < 374)]
    assert len(cols) >= 5
    assert energy[cols].mean() > np.median(energy) + 10
    between = ((cols[:-1] + cols[1:]) // 2).clip(0, 383)
    assert energy[between].mean() < energy[cols].mean() - 10

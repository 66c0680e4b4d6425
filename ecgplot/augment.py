"""Signal-level augmenters for (12, n) mV records, applied before rendering."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .aiwin import FS
from .prints import RHYTHM_DEFAULT, mask_as_print, panels, print_layouts


@dataclass
class AmplitudeScale:
    """Multiply the whole record by one gain in ``[1 - max_delta, 1 + max_delta]``."""

    max_delta: float

    def __call__(self, sig: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return sig * np.float32(rng.uniform(1 - self.max_delta, 1 + self.max_delta))


@dataclass
class BaselineWander:
    """Add a slow sinusoid (0.05-0.5 Hz) of up to ``max_mv`` to every lead."""

    max_mv: float
    fs: int = FS

    def __call__(self, sig: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        t = np.arange(sig.shape[-1]) / self.fs
        amp = rng.uniform(0, self.max_mv, size=(sig.shape[0], 1))
        phase = rng.uniform(0, 2 * np.pi, size=(sig.shape[0], 1))
        return sig + (amp * np.sin(2 * np.pi * rng.uniform(0.05, 0.5) * t + phase)).astype(
            sig.dtype
        )


@dataclass
class GaussianNoise:
    """Add white noise of standard deviation up to ``max_mv``."""

    max_mv: float

    def __call__(self, sig: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        std = rng.uniform(0, self.max_mv)
        return sig + rng.normal(0, std, size=sig.shape).astype(sig.dtype)


@dataclass
class TimeShift:
    """Roll the record in time by up to ``max_s`` seconds (circular)."""

    max_s: float
    fs: int = FS

    def __call__(self, sig: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        limit = int(self.max_s * self.fs)
        return np.roll(sig, int(rng.integers(-limit, limit + 1)), axis=-1) if limit else sig


@dataclass
class LeadDropout:
    """Zero each lead with probability ``p`` (at least one lead is kept)."""

    p: float

    def __call__(self, sig: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        drop = rng.random(sig.shape[0]) < self.p
        if drop.all():
            drop[rng.integers(sig.shape[0])] = False
        out = sig.copy()
        out[drop] = 0
        return out


@dataclass(frozen=True)
class DigitiserErrors:
    """What reading a print back costs a record, beyond the samples it does not show:
    one clock error for the whole print (up to ``shift_s``), per panel a gain error (up
    to ``gain``) and its own median as baseline (the digitiser centres each panel), peaks
    cut ``clip_mv`` (drawn) from the panel's baseline (a tall complex cut where it meets
    the next row), pixel noise (up to ``noise_mv``) and, with ``p_missing``, one panel
    left unread. Ranges set wide around what the digitiser's benchmarks show (clock
    offsets to 15 ms, gains 0.95-1.05, QRS-dominated error), not fitted to them."""

    shift_s: float = 0.016
    gain: float = 0.05
    clip_mv: tuple[float, float] = (1.2, 3.0)
    noise_mv: float = 0.02
    p_missing: float = 0.05

    def __call__(self, sig: np.ndarray, layout: str, rng: np.random.Generator) -> np.ndarray:
        """``sig`` as a ``layout`` print read back shows it (NaN where it shows nothing)."""
        limit = int(self.shift_s * FS)
        out = mask_as_print(np.roll(sig, int(rng.integers(-limit, limit + 1)), axis=-1), layout)
        clip = rng.uniform(*self.clip_mv)
        noise = rng.uniform(0, self.noise_mv)
        cells = panels(layout, RHYTHM_DEFAULT[1] if layout == "3x4" else ())
        lost = int(rng.integers(len(cells))) if rng.random() < self.p_missing else -1
        n = out.shape[-1]
        for k, cell in enumerate(cells):
            span = slice(min(n, int(round(cell.t0 * FS))), min(n, int(round(cell.t1 * FS))))
            piece = out[cell.lead, span]
            if k == lost or not np.isfinite(piece).any():
                out[cell.lead, span] = np.nan
                continue
            piece = (piece - np.nanmedian(piece)) * rng.uniform(1 - self.gain, 1 + self.gain)
            piece = np.clip(piece, -clip, clip) + rng.normal(0, noise, piece.shape)
            out[cell.lead, span] = piece
        return out.astype(np.float32)


@dataclass
class AsPrint:
    """Print-aware training (``print_aug``): a training sample shown, with probability
    ``p`` drawn per (seed, epoch, record), as a print in ``layout`` (one name, or a list
    to draw from) shows it: what the print does not show is NaN
    (:func:`~ecgplot.prints.mask_as_print`), and with ``errors`` it carries
    :class:`DigitiserErrors`. The draws have their own random streams, so the other
    augmentations draw what they drew without them."""

    p: float
    layout: str | list[str] | tuple[str, ...] = "3x4"
    errors: bool = False

    def shown_as_print(self, seed: int, epoch: int, index: int) -> bool:
        return bool(self.p) and np.random.default_rng([seed, epoch, index, 1]).random() < self.p

    def _draw(self, key: tuple[int, ...]) -> tuple[str, np.random.Generator]:
        """The layout drawn for ``key`` and the stream its errors are drawn from next."""
        rng = np.random.default_rng([*key, 2])
        layouts = print_layouts(self.layout)
        return layouts[int(rng.integers(len(layouts)))], rng

    def layout_of(self, key: tuple[int, ...] = ()) -> str:
        """The layout of the print drawn for ``key`` (seed, epoch, record)."""
        return self._draw(key)[0]

    def mask(
        self, sig: np.ndarray, key: tuple[int, ...] = (), layout: str | None = None
    ) -> np.ndarray:
        """``sig`` as the print drawn for ``key`` (seed, epoch, record) shows it; ``layout``
        instead of the drawn one (a cached trunk keeps every layout's print)."""
        drawn, rng = self._draw(key)
        layout = layout or drawn
        return DigitiserErrors()(sig, layout, rng) if self.errors else mask_as_print(sig, layout)


class Compose:
    """Apply augmenters in order."""

    def __init__(self, augmenters: list):
        self.augmenters = augmenters

    def __call__(self, sig: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        for aug in self.augmenters:
            sig = aug(sig, rng)
        return sig


def build_signal_augment(cfg) -> Compose:
    """Signal augmentation from a :class:`~ecgplot.experiment.SignalAugConfig`."""
    augs: list = []
    if cfg.amplitude:
        augs.append(AmplitudeScale(cfg.amplitude))
    if cfg.baseline_mv:
        augs.append(BaselineWander(cfg.baseline_mv))
    if cfg.noise_mv:
        augs.append(GaussianNoise(cfg.noise_mv))
    if cfg.max_shift_s:
        augs.append(TimeShift(cfg.max_shift_s))
    if cfg.lead_dropout_p:
        augs.append(LeadDropout(cfg.lead_dropout_p))
    return Compose(augs)

"""Signal-level augmenters for (12, n) mV records, applied before rendering."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .aiwin import FS
from .prints import mask_as_print


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


@dataclass
class AsPrint:
    """Print-aware training (``print_aug``): a training sample shown, with probability
    ``p`` drawn per (seed, epoch, record), as a ``layout`` print shows it: what the print
    does not show is NaN (:func:`~ecgplot.prints.mask_as_print`). The draw has
    its own random stream, so the other augmentations draw what they drew without it."""

    p: float
    layout: str = "3x4"

    def shown_as_print(self, seed: int, epoch: int, index: int) -> bool:
        return bool(self.p) and np.random.default_rng([seed, epoch, index, 1]).random() < self.p

    def mask(self, sig: np.ndarray) -> np.ndarray:

        return mask_as_print(sig, self.layout)


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

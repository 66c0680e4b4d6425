"""Records as the 1-D model reads them: (12, window) float32 and the target."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import paddle

from .aiwin import read_record
from .augment import AsPrint, build_signal_augment
from .data import record_target
from .experiment import ExperimentConfig
from .signal_model import signal_input


class SignalDataset(paddle.io.Dataset):
    """Network input and target of each record. Training draws ``signal_aug`` (seeded per
    sample from the run's seed, the epoch and the index, as the image datasets are), shows
    ``print_aug.p`` of the records as a print shows them (missing samples read as 0) and,
    from a record longer than one window, a window at a random start; validation reads
    the first window (prediction reads all of them: :func:`~ecgplot.signal_model.windows`).
    Records are read once and kept in memory."""

    def __init__(
        self,
        cfg: ExperimentConfig,
        names: list[str],
        labels: dict | None,
        train: bool,
        record_dir: Path | None = None,
    ):
        self.cfg, self.names, self.labels, self.train = cfg, list(names), labels, train
        self.record_dir = record_dir or Path(cfg.data.root) / "train"
        use_aug = train and cfg.signal_aug.enabled
        self.signal_aug = build_signal_augment(cfg.signal_aug) if use_aug else None
        self.as_print = AsPrint(
            cfg.print_aug.p if train else 0.0, cfg.print_aug.layout, cfg.print_aug.errors
        )
        self.size = int(round(cfg.signal1d.window_s * cfg.signal1d.input_hz))
        self.epoch = 0
        self._signals: dict[str, np.ndarray] = {}

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.names)

    def signal(self, name: str) -> np.ndarray:
        if name not in self._signals:
            self._signals[name] = read_record(self.record_dir / f"{name}.mat").signal
        return self._signals[name]

    def target(self, name: str) -> np.ndarray:
        return record_target(self.labels[name], self.cfg.data.task)

    def __getitem__(self, index: int):
        name = self.names[index]
        rng = np.random.default_rng([self.cfg.train.seed, self.epoch, index])
        signal = self.signal(name)
        if self.signal_aug is not None:
            signal = self.signal_aug(signal, rng)
        if self.as_print.shown_as_print(self.cfg.train.seed, self.epoch, index):
            signal = self.as_print.mask(signal, (self.cfg.train.seed, self.epoch, index))
        x = signal_input(signal, self.cfg.signal1d)
        spare = max(0, x.shape[1] - self.size)
        start = int(rng.integers(0, spare + 1)) if self.train else 0
        x = np.pad(x, ((0, 0), (0, max(0, self.size - x.shape[1]))))[:, start : start + self.size]
        if self.labels is None:
            return (x,)
        return x, self.target(name)

"""``model.kind: signal1d``: a 1-D SE-ResNet on the 12-lead signal itself.

The partner model users put beside an image model: the record band-passed, resampled to
``signal1d.input_hz`` and read by residual blocks of 1-D convolutions with
squeeze-and-excitation (Hu et al. 2018; the SE-ResNets of PhysioNet/CinC 2020), pooled
by mean and max over time. Records longer than one window (``signal1d.window_s``) are
read as overlapping windows and each class takes its largest probability over them
(:func:`window_probs`), so a 30 s record is neither cropped nor squeezed.
"""

from __future__ import annotations

import numpy as np
import paddle
import paddle.nn as nn
import paddle.nn.functional as F

from .aiwin import FS
from .experiment import ExperimentConfig, Signal1DConfig
from .signal import bandpass_present, resample

MAX_MV = 10.0  # samples beyond +-10 mV are artefacts: clipped


def signal_input(signal: np.ndarray, cfg: Signal1DConfig, fs: float = FS) -> np.ndarray:
    """The network's view of a record (12, n) mV at ``fs``: band-passed, resampled to
    ``input_hz``, clipped, float32; samples a print did not show (NaN) are 0, each
    printed stretch filtered on its own (no ringing from the edges of what is missing)."""
    x = bandpass_present(np.asarray(signal, np.float32), fs, cfg.highpass_hz, cfg.lowpass_hz)
    x = np.nan_to_num(x, nan=0.0)
    x = resample(x, fs, cfg.input_hz)
    return np.clip(x, -MAX_MV, MAX_MV).astype(np.float32)


def windows(x: np.ndarray, cfg: Signal1DConfig) -> np.ndarray:
    """(12, n) network input -> (W, 12, window) overlapping windows covering all of it
    (the last one ends with the record); a record no longer than a window is one
    window, zero-padded at the end if shorter."""
    size = int(round(cfg.window_s * cfg.input_hz))
    n = x.shape[-1]
    if n <= size:
        return np.pad(x, ((0, 0), (0, size - n)))[None]
    step = size - int(round(cfg.overlap_s * cfg.input_hz))
    starts = list(range(0, n - size + 1, step))
    if starts[-1] != n - size:
        starts.append(n - size)
    return np.stack([x[:, s : s + size] for s in starts])


def window_probs(probs: np.ndarray, counts: list[int], task: int) -> np.ndarray:
    """One row per record from the rows of its windows: each class its largest
    probability over them (task 1: the largest abnormal probability, normal its
    complement)."""
    out, start = [], 0
    for n in counts:
        top = probs[start : start + n].max(axis=0)
        if task == 1:
            top = np.array([1.0 - top[1], top[1]], np.float32)
        out.append(top)
        start += n
    return np.stack(out)


class SqueezeExcite(nn.Layer):
    """Channel weights from the block's mean over time (squeeze-and-excitation)."""

    def __init__(self, channels: int, reduction: int):
        super().__init__()
        self.down = nn.Linear(channels, max(4, channels // reduction))
        self.up = nn.Linear(max(4, channels // reduction), channels)

    def forward(self, x):
        w = F.sigmoid(self.up(F.relu(self.down(x.mean(axis=2)))))
        return x * w.unsqueeze(2)


class SEBasicBlock(nn.Layer):
    """Two convolutions with batch norm, squeeze-and-excitation, a residual shortcut."""

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int, reduction: int):
        super().__init__()
        pad = kernel // 2
        self.conv1 = nn.Conv1D(c_in, c_out, kernel, stride, pad, bias_attr=False)
        self.bn1 = nn.BatchNorm1D(c_out)
        self.conv2 = nn.Conv1D(c_out, c_out, kernel, 1, pad, bias_attr=False)
        self.bn2 = nn.BatchNorm1D(c_out)
        self.se = SqueezeExcite(c_out, reduction)
        self.shortcut = None
        if stride != 1 or c_in != c_out:
            self.shortcut = nn.Sequential(
                nn.Conv1D(c_in, c_out, 1, stride, bias_attr=False), nn.BatchNorm1D(c_out)
            )

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.se(self.bn2(self.conv2(out)))
        return F.relu(out + (x if self.shortcut is None else self.shortcut(x)))


class SEResNet1D(nn.Layer):
    """(N, 12, T) -> logits: a strided stem, stages of :class:`SEBasicBlock` (each stage
    halves the time and doubles the width up to ``8 * width``), mean and max over time,
    dropout, a linear layer."""

    def __init__(self, cfg: Signal1DConfig, num_classes: int, dropout: float = 0.0):
        super().__init__()
        w = cfg.width
        self.stem = nn.Sequential(
            nn.Conv1D(12, w, 15, 2, 7, bias_attr=False),
            nn.BatchNorm1D(w),
            nn.ReLU(),
            nn.MaxPool1D(3, 2, 1),
        )
        blocks, c_in = [], w
        for i, n in enumerate(cfg.blocks):
            c_out = w * min(2**i, 8)
            for j in range(n):
                stride = 2 if j == 0 and i > 0 else 1
                blocks.append(SEBasicBlock(c_in, c_out, cfg.kernel, stride, cfg.se_reduction))
                c_in = c_out
        self.blocks = nn.Sequential(*blocks)
        self.dropout = nn.Dropout(dropout) if dropout else None
        self.fc = nn.Linear(2 * c_in, num_classes)

    def forward(self, signal):
        x = self.blocks(self.stem(signal))
        x = paddle.concat([x.mean(axis=2), x.max(axis=2)], axis=1)
        if self.dropout is not None:
            x = self.dropout(x)
        return self.fc(x)


def build_signal_model(cfg: ExperimentConfig) -> SEResNet1D:
    """The configured 1-D SE-ResNet with freshly initialised weights."""
    return SEResNet1D(cfg.signal1d, cfg.num_classes, cfg.model.dropout)

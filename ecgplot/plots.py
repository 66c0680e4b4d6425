"""PNG figures: a training run's curves, a record's leads."""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from .aiwin import LEADS  # noqa: E402
from .atomic import atomic_path  # noqa: E402


def save_figure(fig, path: Path, dpi: int = 90) -> None:
    """Save a matplotlib figure as PNG atomically and close it."""
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=dpi)
    plt.close(fig)


def training_curves(path: Path, history: Sequence[dict], monitor: str) -> None:
    """Loss (train/val), learning rate and the monitored validation metric per epoch."""
    epochs = [h["epoch"] for h in history]
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
    axes[0].plot(epochs, [h["train_loss"] for h in history], "o-", label="train")
    axes[0].plot(epochs, [h["val_loss"] for h in history], "o-", label="validation")
    axes[0].set_title("loss")
    axes[0].legend()
    axes[1].plot(epochs, [h["lr"] for h in history], "o-")
    axes[1].set_title("learning rate (end of epoch)")
    axes[2].plot(epochs, [h[monitor] for h in history], "o-", color="C2")
    axes[2].set_title(f"validation {monitor}")
    for ax in axes:
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
    save_figure(fig, path)


def lead_grid_png(signal: np.ndarray, fs: int, title: str = "") -> bytes:
    """PNG of the 12 leads one under the other on ECG paper (25 mm/s, 10 mm/mV look),
    missing stretches left empty."""
    t = np.arange(signal.shape[-1]) / fs
    fig, axes = plt.subplots(len(LEADS), 1, figsize=(10, 11), sharex=True)
    for ax, lead, trace in zip(axes, LEADS, signal):
        ax.plot(t, trace, color="#111111", lw=0.7)
        ax.set_ylabel(lead, rotation=0, ha="right", va="center", fontsize=8)
        ax.set_xticks(np.arange(0, t[-1] + 0.2, 0.2), minor=True)
        ax.grid(which="both", color="#f2b8b8", lw=0.4)
        ax.grid(which="major", color="#e07070", lw=0.6)
        ax.tick_params(labelsize=7)
        if np.isfinite(trace).any():
            lo, hi = np.nanmin(trace), np.nanmax(trace)
            pad = max(0.2, 0.1 * (hi - lo))
            ax.set_ylim(lo - pad, hi + pad)
    axes[-1].set_xlabel("s")
    axes[-1].set_xlim(0, t[-1])
    if title:
        axes[0].set_title(title, fontsize=9)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=80)
    plt.close(fig)
    return buf.getvalue()

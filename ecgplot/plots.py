"""PNG figures of a training run."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

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

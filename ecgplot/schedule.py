"""Per-step learning rate: linear warmup, then cosine or polynomial decay."""

from __future__ import annotations

import math

from paddle.optimizer.lr import LambdaDecay


def lr_factor(
    step: int, warmup_steps: int, total_steps: int, decay: str, power: float, min_ratio: float
) -> float:
    """Multiplier of the base LR at ``step`` (0-based): 0 -> 1 over the warmup, then down
    to ``min_ratio`` at ``total_steps``."""
    if warmup_steps and step < warmup_steps:
        return (step + 1) / warmup_steps
    span = max(1, total_steps - warmup_steps)
    progress = min(1.0, (step - warmup_steps) / span)
    if decay == "cosine":
        shape = 0.5 * (1 + math.cos(math.pi * progress))
    elif decay == "poly":
        shape = (1 - progress) ** power
    else:
        raise ValueError(f"optim.decay must be cosine or poly, got {decay!r}")
    return min_ratio + (1 - min_ratio) * shape


def warmup_decay(
    base_lr: float,
    warmup_steps: int,
    total_steps: int,
    decay: str = "cosine",
    power: float = 0.9,
    min_lr: float = 0.0,
) -> LambdaDecay:
    """Paddle LR scheduler stepping once per optimizer step."""
    ratio = min_lr / base_lr if base_lr else 0.0
    return LambdaDecay(
        base_lr, lambda s: lr_factor(s, warmup_steps, total_steps, decay, power, ratio)
    )

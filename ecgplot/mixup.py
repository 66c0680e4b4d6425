"""mixup of a training batch with itself (Zhang et al., 2018), on whatever the trained
layers receive: images, a frozen trunk's cached maps, or 1-D signals."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import paddle

MIXUP_STREAM = 7  # the random stream of mixup among a run's (seed, fold, epoch) streams


class BatchMixup:
    """Each batch mixed with itself in a shuffled order: inputs ``lam * x + (1 - lam) *
    x[order]``, loss ``lam * L(y) + (1 - lam) * L(y[order])``, ``lam ~ Beta(alpha,
    alpha)``. Drawn from its own stream per (seed, fold, epoch): a resumed run mixes as
    an uninterrupted one does."""

    def __init__(self, alpha: float, seed: int, fold: int):
        self.alpha, self.seed, self.fold = alpha, seed, fold
        self.rng = np.random.default_rng([seed, fold, 0, MIXUP_STREAM])

    def set_epoch(self, epoch: int) -> None:
        self.rng = np.random.default_rng([self.seed, self.fold, epoch, MIXUP_STREAM])

    def __call__(
        self, inputs: list[paddle.Tensor], target: paddle.Tensor
    ) -> tuple[list[paddle.Tensor], Callable]:
        """The mixed inputs and ``mixed_loss(loss_fn, logits)``."""
        lam = float(self.rng.beta(self.alpha, self.alpha))
        order = paddle.to_tensor(self.rng.permutation(len(target)))
        mixed = [(lam * x + (1 - lam) * paddle.gather(x, order)).astype(x.dtype) for x in inputs]
        other = paddle.gather(target, order)

        def mixed_loss(loss_fn: Callable, logits: paddle.Tensor) -> paddle.Tensor:
            return lam * loss_fn(logits, target) + (1 - lam) * loss_fn(logits, other)

        return mixed, mixed_loss

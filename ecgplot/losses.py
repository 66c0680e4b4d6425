"""Losses: cross-entropy for task 1, BCE (with pos_weight) or asymmetric loss for task 2."""

from __future__ import annotations

import numpy as np
import paddle
import paddle.nn as nn
import paddle.nn.functional as F

from .experiment import LossConfig


class AsymmetricLoss(nn.Layer):
    """Asymmetric loss for multi-label imbalance (Ridnik et al., ICCV 2021): focusing
    ``gamma_neg`` on easy negatives and a probability margin ``clip`` for negatives."""

    def __init__(self, gamma_neg: float = 4.0, gamma_pos: float = 0.0, clip: float = 0.05):
        super().__init__()
        self.gamma_neg, self.gamma_pos, self.clip = gamma_neg, gamma_pos, clip

    def forward(self, logits: paddle.Tensor, target: paddle.Tensor) -> paddle.Tensor:
        p = F.sigmoid(logits)
        p_neg = paddle.clip(p - self.clip, min=0) if self.clip else p
        loss_pos = target * paddle.log(paddle.clip(p, min=1e-8)) * (1 - p) ** self.gamma_pos
        loss_neg = (
            (1 - target) * paddle.log(paddle.clip(1 - p_neg, min=1e-8)) * (p_neg**self.gamma_neg)
        )
        return -(loss_pos + loss_neg).sum(axis=1).mean()


class BCEWithLogits(nn.Layer):
    """Mean binary cross-entropy over the 12 classes, optional per-class pos_weight."""

    def __init__(self, pos_weight: np.ndarray | None = None, label_smoothing: float = 0.0):
        super().__init__()
        self.pos_weight = (
            paddle.to_tensor(pos_weight, "float32") if pos_weight is not None else None
        )
        self.label_smoothing = label_smoothing

    def forward(self, logits: paddle.Tensor, target: paddle.Tensor) -> paddle.Tensor:
        if self.label_smoothing:
            target = target * (1 - self.label_smoothing) + 0.5 * self.label_smoothing
        return F.binary_cross_entropy_with_logits(logits, target, pos_weight=self.pos_weight)


class CrossEntropy(nn.Layer):
    """Softmax cross-entropy on class indices; with ``label_smoothing`` e the target is
    (1 - e) on the class and e spread evenly over all classes."""

    def __init__(self, label_smoothing: float = 0.0):
        super().__init__()
        self.label_smoothing = label_smoothing

    def forward(self, logits: paddle.Tensor, target: paddle.Tensor) -> paddle.Tensor:
        if not self.label_smoothing:
            return F.cross_entropy(logits, target)
        # Paddle's own smoothing has no kernel for integer labels: smooth a one-hot target
        classes = logits.shape[-1]
        soft = F.one_hot(target.reshape([-1]), classes) * (1 - self.label_smoothing)
        soft = soft + self.label_smoothing / classes
        return F.cross_entropy(logits, soft, soft_label=True)


def positive_weights(targets: np.ndarray, cap: float = 50.0) -> np.ndarray:
    """neg/pos ratio per class from the training multi-hot targets (capped)."""
    pos = targets.sum(axis=0)
    neg = len(targets) - pos
    return np.clip(neg / np.maximum(pos, 1), 1.0, cap).astype(np.float32)


def build_loss(cfg: LossConfig, task: int, train_targets: np.ndarray) -> nn.Layer:
    """The configured loss; ``train_targets`` (task 2 multi-hot) sizes ``pos_weight: auto``."""
    name = cfg.name if cfg.name != "auto" else ("ce" if task == 1 else "bce")
    if name == "ce":  # the experiment's check keeps ce to task 1 and bce/asl to task 2
        return CrossEntropy(cfg.label_smoothing)
    if name == "bce":
        if cfg.pos_weight == "auto":
            weights = positive_weights(train_targets)
        elif cfg.pos_weight is None:
            weights = None
        else:
            weights = np.full(train_targets.shape[1], float(cfg.pos_weight), np.float32)
        return BCEWithLogits(weights, cfg.label_smoothing)
    return AsymmetricLoss(cfg.asl_gamma_neg, cfg.asl_gamma_pos, cfg.asl_clip)

"""Classifier heads, found by name (``model.head``): the last stage's maps -> logits.

A head pools the maps (N, C, h, w) into one feature vector per image, then dropout and a
linear layer. Register a new one with ``@register_head("name")``; ``build_head`` makes
the configured one.
"""

from __future__ import annotations

from collections.abc import Callable

import paddle
import paddle.nn as nn
import paddle.nn.functional as F

from .experiment import ModelConfig

STD_EPS = 1e-5  # rows head ``std`` pooling: sqrt(var + eps)
HEADS: dict[str, type[Head]] = {}


def register_head(name: str) -> Callable[[type[Head]], type[Head]]:
    """Class decorator: make a head available as ``model.head: name``."""

    def add(cls: type[Head]) -> type[Head]:
        HEADS[name] = cls
        return cls

    return add


def build_head(cfg: ModelConfig, channels: int, num_classes: int) -> Head:
    """The head ``cfg.head`` names, for maps of ``channels`` channels."""
    if cfg.head not in HEADS:
        raise ValueError(f"unknown model.head {cfg.head!r}; choose from {sorted(HEADS)}")
    return HEADS[cfg.head](cfg, channels, num_classes)


class Head(nn.Layer):
    """Pooling (:meth:`pool`), dropout and a linear classifier, made by
    :meth:`add_classifier` after a subclass's own layers (their initial weights drawn
    first, in the order the network has always drawn them)."""

    def add_classifier(self, cfg: ModelConfig, width: int, num_classes: int) -> None:
        """Dropout and the linear layer on the ``width`` pooled features."""
        self.dropout = nn.Dropout(cfg.dropout) if cfg.dropout else None
        self.fc = nn.Linear(width, num_classes)

    def pool(self, maps: paddle.Tensor) -> paddle.Tensor:
        raise NotImplementedError

    def forward(self, maps: paddle.Tensor) -> paddle.Tensor:
        features = self.pool(maps)
        if self.dropout is not None:
            features = self.dropout(features)
        return self.fc(features)


@register_head("gap")
class GapHead(Head):
    """Global average pooling over the whole image (the GPU configs' head)."""

    def __init__(self, cfg: ModelConfig, channels: int, num_classes: int):
        super().__init__()
        self.add_classifier(cfg, channels, num_classes)

    def pool(self, maps: paddle.Tensor) -> paddle.Tensor:
        return paddle.flatten(F.adaptive_avg_pool2d(maps, 1), 1)


@register_head("rows")
class RowsHead(Head):
    """Keeps where things are vertically: a convolution (``head_kernel`` wide in time,
    then an optional ``head_time_kernel`` one) reduces the maps to ``head_channels``,
    pooled over time (``head_pools``) within each of ``head_rows`` horizontal bands (one
    per lead of ``rows12``) and ``head_bins`` stretches of time, so the classifier sees
    each lead's features, and with bins when along the trace they occur."""

    def __init__(self, cfg: ModelConfig, channels: int, num_classes: int):
        super().__init__()
        c, k = cfg.head_channels, cfg.head_kernel
        self.rows, self.pools, self.bins = cfg.head_rows, cfg.head_pools, cfg.head_bins
        self.reduce = nn.Sequential(
            nn.Conv2D(channels, c, (1, k), padding=(0, k // 2), bias_attr=False),
            nn.BatchNorm2D(c),
            nn.ReLU(),
        )
        if cfg.head_time_kernel:  # cheap: on head_channels, not the trunk's channels
            t = cfg.head_time_kernel
            self.reduce.add_sublayer(
                "time", nn.Conv2D(c, c, (1, t), padding=(0, t // 2), bias_attr=False)
            )
            self.reduce.add_sublayer("time_bn", nn.BatchNorm2D(c))
            self.reduce.add_sublayer("time_relu", nn.ReLU())
        width = len(cfg.head_pools) * c * cfg.head_rows * cfg.head_bins
        self.add_classifier(cfg, width, num_classes)

    def pool(self, maps: paddle.Tensor) -> paddle.Tensor:
        return paddle.flatten(band_pool(self.reduce(maps), self.rows, self.pools, self.bins), 1)


def band_pool(
    maps: paddle.Tensor, rows: int, pools: tuple[str, ...] | list[str], bins: int = 1
) -> paddle.Tensor:
    """Statistics over time within each of ``rows`` horizontal bands, in ``bins`` equal
    stretches of time: (N, C, H, W) -> (N, C * len(pools), rows, bins). ``avg`` and
    ``max`` run over each stretch; ``std`` is the spread over time of the band's
    row-averaged maps within it (beat-to-beat variation: irregular rhythms, ectopic
    beats), with an epsilon that keeps its gradient finite where a channel is constant.
    One bin pools the whole width; more keep where along it things are (in a median beat:
    P wave, PR, QRS, ST, T)."""
    stats = []
    for pool in pools:
        if pool == "avg":
            stats.append(F.adaptive_avg_pool2d(maps, (rows, bins)))
        elif pool == "max":
            stats.append(F.adaptive_max_pool2d(maps, (rows, bins)))
        elif pool == "std":
            bands = F.adaptive_avg_pool2d(maps, (rows, maps.shape[3]))
            mean = F.adaptive_avg_pool2d(bands, (rows, bins))
            var = F.relu(F.adaptive_avg_pool2d(bands.square(), (rows, bins)) - mean.square())
            stats.append(paddle.sqrt(var + STD_EPS))
        else:
            raise ValueError(f"unknown pooling statistic {pool!r}")
    return paddle.concat(stats, axis=1)


def upgrade_state(state: dict) -> dict:
    """A checkpoint saved before heads were their own layers (``head.weight``,
    ``reduce.*`` at the top of the classifier) with its keys renamed to today's
    (``head.fc.weight``, ``head.reduce.*``); today's checkpoints pass unchanged."""
    if not isinstance(state, dict) or "head.fc.weight" in state or "head.weight" not in state:
        return state
    renamed = {}
    for key, value in state.items():
        if key in ("head.weight", "head.bias"):
            key = "head.fc." + key.split(".")[1]
        elif key.startswith("reduce."):
            key = "head." + key
        renamed[key] = value
    return renamed

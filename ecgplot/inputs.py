"""What a model kind is given for one record: the rendered views and their arrays.

Training (:mod:`ecgplot.data`) and prediction (:mod:`ecgplot.infer`) build a record's
network inputs here, so both see the same pixels and prediction loads no training code.
"""

from __future__ import annotations

import numpy as np

from .experiment import ExperimentConfig
from .pretrained import IMAGENET_MEAN, IMAGENET_STD
from .render import render_plot, render_stft


def to_tensor(img: np.ndarray) -> np.ndarray:
    """uint8 grayscale (H, W) to float32 (3, H, W) with ImageNet normalisation."""
    x = img.astype(np.float32) / 255.0
    return ((x[None] - IMAGENET_MEAN[:, None, None]) / IMAGENET_STD[:, None, None]).astype(
        np.float32
    )


def plot_tensor(plot: np.ndarray) -> np.ndarray:
    """A model view (grayscale (H, W)) or a stack of views (``views``: (V, H, W)) to
    float32 (3, H, W) or (V, 3, H, W), normalised as :func:`to_tensor`."""
    return to_tensor(plot) if plot.ndim == 2 else np.stack([to_tensor(v) for v in plot])


def render_images(
    signal: np.ndarray, cfg: ExperimentConfig
) -> tuple[list[np.ndarray], np.ndarray | None]:
    """uint8 plot image of each rendering (``render``, then each of ``views``) and the
    STFT image (None unless ``data.stft``) of a record's signal."""
    plots = [render_plot(signal, r) for r in cfg.renders]
    return plots, (render_stft(signal, cfg.render) if cfg.data.stft else None)


def stack_views(plots: list[np.ndarray], cfg: ExperimentConfig) -> np.ndarray:
    """What the model sees of a record's renderings: the one image (H, W), or with
    ``views`` all of them stacked (V, H, W)."""
    return np.stack(plots) if cfg.views else plots[0]


def rendered_views(
    signal: np.ndarray, cfg: ExperimentConfig
) -> tuple[np.ndarray, np.ndarray | None]:
    """:func:`render_images` as the model sees them (:func:`stack_views`), for prediction."""
    plots, stft = render_images(signal, cfg)
    return stack_views(plots, cfg), stft


def model_inputs(plot: np.ndarray, stft: np.ndarray | None) -> list[np.ndarray]:
    """The network's input arrays: the normalised plot image (or stack of views), then
    the STFT image if any."""
    return [plot_tensor(plot)] + ([to_tensor(stft)] if stft is not None else [])

"""Backbone factory, pretrained loading and the (optionally two-stream) classifier."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import paddle
import paddle.nn as nn
import paddle.nn.functional as F
from paddle.vision.models import resnet

from .experiment import ModelConfig
from .heads import build_head
from .pretrained import needs_stride_in_1x1, resolve_imagenet

log = logging.getLogger(__name__)

BACKBONES = {
    "resnet18": (resnet.resnet18, 512),
    "resnet34": (resnet.resnet34, 512),
    "resnet50": (resnet.resnet50, 2048),
    "resnet101": (resnet.resnet101, 2048),
    "resnet152": (resnet.resnet152, 2048),
}
STAGES = ("stem", "layer1", "layer2", "layer3", "layer4")
STRIDES = {1: 4, 2: 4, 3: 8, 4: 16, 5: 32}  # output stride after running n stages


def build_backbone(arch: str) -> nn.Layer:
    """A paddle.vision ResNet without its classifier: (N, 3, H, W) -> (N, C, 1, 1)."""
    if arch not in BACKBONES:
        raise ValueError(f"unknown model.arch {arch!r}; choose from {sorted(BACKBONES)}")
    return BACKBONES[arch][0](num_classes=0)


def use_stride_in_1x1(backbone: nn.Layer) -> None:
    """ResNet v1 stride placement: stride 2 in the first 1x1 conv of stages 2-4."""
    for layer in (backbone.layer2, backbone.layer3, backbone.layer4):
        if isinstance(layer, nn.Identity):  # a stage the model does not run (model.stages)
            continue
        block = layer[0]
        if not hasattr(block, "conv3"):
            raise ValueError("v1 strides apply to bottleneck ResNets (50/101/152) only")
        block.conv1._stride, block.conv2._stride = [2, 2], [1, 1]


def load_backbone_weights(backbone: nn.Layer, path: str | Path) -> dict[str, list[str]]:
    """Load a paddle.vision ResNet ``.pdparams`` into ``backbone``; the file's classifier
    (``fc.*``) and any shape mismatch are skipped. Returns loaded/skipped/missing keys."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"pretrained weights {path} not found")
    state = paddle.load(str(path))
    own = backbone.state_dict()
    loaded, skipped = {}, []
    for key, value in state.items():
        if key in own and list(value.shape) == list(own[key].shape):
            loaded[key] = value
        else:
            skipped.append(key)
    missing = sorted(set(own) - set(loaded))
    backbone.set_state_dict(loaded)
    log.info(
        "pretrained %s: loaded %d tensors, skipped %d (%s), missing %d%s",
        path,
        len(loaded),
        len(skipped),
        ", ".join(skipped[:6]),
        len(missing),
        f" ({', '.join(missing[:6])})" if missing else "",
    )
    return {"loaded": sorted(loaded), "skipped": sorted(skipped), "missing": missing}


def stage_channels(arch: str, stages: int) -> int:
    """Channels of a backbone's output when it runs its first ``stages`` stages (2-5)."""
    return BACKBONES[arch][1] >> (5 - stages)


class ECGClassifier(nn.Layer):
    """ResNet on the plot image (optionally a second ResNet, or the same one, on the STFT
    image, their pooled features fused by concatenation or sum), then the head
    ``model.head`` names (:mod:`ecgplot.heads`).

    ``model.stages`` cuts the backbone after a stage (4: after layer3, maps at 1/16 of the
    image); the first ``model.freeze_stages`` are the frozen trunk (:meth:`trunk`), the
    rest and the head are what trains (:meth:`top`). ``views`` renderings of a record go
    through the same trunk and their maps are stacked on channels.
    """

    def __init__(
        self, cfg: ModelConfig, num_classes: int, two_stream: bool = False, views: int = 1
    ):
        super().__init__()
        self.cfg = cfg
        self.views = views
        self.backbone = build_backbone(cfg.arch)
        self.stft_backbone = (
            build_backbone(cfg.arch) if two_stream and not cfg.shared_backbone else None
        )
        self.two_stream = two_stream
        for backbone in self.backbones():
            for stage in STAGES[cfg.stages :]:
                setattr(backbone, stage, nn.Identity())
        channels = stage_channels(cfg.arch, cfg.stages) * views
        fused = channels * 2 if two_stream and cfg.fusion == "concat" else channels
        self.head = build_head(cfg, fused, num_classes)
        self.load_report: dict[str, list[str]] = {}
        self.stride_in_1x1 = False  # ResNet v1 stride placement (converted Keras weights)

    def backbones(self) -> list[nn.Layer]:
        return [b for b in (self.backbone, self.stft_backbone) if b is not None]

    def frozen_layers(self) -> list[nn.Layer]:
        """Backbone stages frozen by ``freeze_stages`` (stem, layer1, ... in order)."""
        layers = []
        for backbone in self.backbones():
            for stage in STAGES[: self.cfg.freeze_stages]:
                names = ("conv1", "bn1") if stage == "stem" else (stage,)
                layers += [getattr(backbone, n) for n in names]
        return layers

    def freeze(self) -> None:
        for layer in self.frozen_layers():
            for p in layer.parameters():
                p.stop_gradient = True

    def train(self):
        super().train()
        for layer in self.frozen_layers():  # frozen BatchNorm keeps its running statistics
            layer.eval()
        if self.cfg.freeze_bn:
            for backbone in self.backbones():
                for layer in backbone.sublayers():
                    if isinstance(layer, nn.BatchNorm2D):
                        layer.eval()
        return self

    def _stages(self, backbone: nn.Layer) -> list[nn.Layer]:
        """The stages the model runs (``model.stages`` of stem, layer1, ... layer4)."""
        stem = nn.Sequential(backbone.conv1, backbone.bn1, backbone.relu, backbone.maxpool)
        stages = [stem, backbone.layer1, backbone.layer2, backbone.layer3, backbone.layer4]
        return stages[: self.cfg.stages]

    def last_stage(self) -> nn.Layer:
        """The plot backbone's last stage that runs (Grad-CAM's layer)."""
        return getattr(self.backbone, STAGES[self.cfg.stages - 1])

    def trunk(self, plot: paddle.Tensor) -> paddle.Tensor:
        """The frozen stages (``freeze_stages``) of the plot backbone: their output does
        not change in training, so it can be computed once per image and cached. A stack
        of views (N, V, 3, H, W) runs view by view and their maps are stacked on channels
        (N, V * C, h, w)."""
        if self.two_stream:
            raise ValueError("a cached trunk serves single-stream models only (no data.stft)")
        if plot.ndim == 5:
            return paddle.concat([self.trunk(plot[:, v]) for v in range(plot.shape[1])], axis=1)
        for stage in self._stages(self.backbone)[: self.cfg.freeze_stages]:
            plot = stage(plot)
        return plot

    def top(self, maps: paddle.Tensor) -> paddle.Tensor:
        """The trained stages and the head, from :meth:`trunk`'s output."""
        for stage in self._stages(self.backbone)[self.cfg.freeze_stages :]:
            maps = stage(maps)
        return self.head(maps)

    def forward(self, plot: paddle.Tensor, stft: paddle.Tensor | None = None) -> paddle.Tensor:
        if not self.two_stream:
            return self.top(self.trunk(plot))
        features = self.backbone(plot)  # globally pooled: (N, C, 1, 1)
        stft_features = (self.stft_backbone or self.backbone)(stft)
        if self.cfg.fusion == "concat":
            return self.head(paddle.concat([features, stft_features], axis=1))
        return self.head(features + stft_features)


class TopOnly(nn.Layer):
    """The trained part of an :class:`ECGClassifier` (:meth:`~ECGClassifier.top`), fed
    with cached trunk maps; ``train()`` keeps the model's frozen parts in eval mode."""

    def __init__(self, model: ECGClassifier):
        super().__init__()
        self.model = model

    def train(self):
        super().train()
        self.model.train()
        return self

    def forward(self, maps: paddle.Tensor) -> paddle.Tensor:
        return self.model.top(maps)


def activation(logits: paddle.Tensor, task: int) -> paddle.Tensor:
    """Task 1: softmax over (normal, abnormal); task 2: independent sigmoids."""
    return F.softmax(logits, axis=1) if task == 1 else F.sigmoid(logits)


def probabilities(logits: paddle.Tensor, task: int) -> np.ndarray:
    """:func:`activation` as a float32 numpy array."""
    return activation(logits, task).astype("float32").numpy()


def build_model(
    cfg: ModelConfig,
    num_classes: int,
    two_stream: bool = False,
    stride_in_1x1: bool = False,
    views: int = 1,
) -> ECGClassifier:
    """Classifier with pretrained backbone(s) as configured and frozen stages applied;
    ``views`` renderings of each record share the backbone (the experiment's views + 1).

    ``stride_in_1x1`` rebuilds a model trained from v1-stride weights when no pretrained
    file is loaded (inference from a checkpoint).
    """
    model = ECGClassifier(cfg, num_classes, two_stream, views)
    if stride_in_1x1 and not cfg.pretrained:
        for backbone in model.backbones():
            use_stride_in_1x1(backbone)
        model.stride_in_1x1 = True
    if cfg.pretrained:
        if cfg.pretrained == "imagenet":
            path, v1 = resolve_imagenet(cfg.arch)
        else:
            path = Path(cfg.pretrained)
            v1 = needs_stride_in_1x1(path)
        for backbone in model.backbones():
            if v1:
                use_stride_in_1x1(backbone)
            model.load_report = load_backbone_weights(backbone, path)
        model.stride_in_1x1 = v1
    model.freeze()
    return model

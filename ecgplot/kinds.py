"""Model kinds, found by name (``model.kind``): what each trains, reads from a record,
loads, predicts and exports.

The engine (:mod:`ecgplot.trainer`), prediction (:mod:`ecgplot.infer`), export and
fusion ask a run's kind (:func:`get_kind`) instead of comparing kind names, so a new kind
is one class here, registered with ``@register_kind("name")``. A kind's own code (its
network, datasets, predictors) is imported where the kind uses it: reading a config
loads no network, and predicting loads no training code (albumentations, datasets).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .aiwin import BadInputError
from .run_folder import BEST_WEIGHTS, FEATURE_CHECKPOINT, FoldResult

if TYPE_CHECKING:
    import paddle

    from .experiment import ExperimentConfig
    from .infer import Run

BACKENDS = ("dygraph", "paddle", "onnx")
Predictor = Callable[[list], np.ndarray]  # a batch's inputs -> (N, classes) probabilities
KINDS: dict[str, ModelKind] = {}


def register_kind(name: str) -> Callable[[type[ModelKind]], type[ModelKind]]:
    """Class decorator: make a kind available as ``model.kind: name``."""

    def add(cls: type[ModelKind]) -> type[ModelKind]:
        cls.name = name
        KINDS[name] = cls()
        return cls

    return add


def get_kind(name: str) -> ModelKind:
    """The kind ``model.kind`` names (ValueError naming the known ones)."""
    if name not in KINDS:
        raise ValueError(f"model.kind must be one of {tuple(KINDS)}, got {name!r}")
    return KINDS[name]


class ModelKind:
    """A paddle network trained by the engine's loop, fold by fold (the default); a kind
    that trains otherwise sets ``engine_trained = False`` and overrides :meth:`train_fold`."""

    name = ""
    checkpoint = BEST_WEIGHTS  # each fold's kept model, in RUN/fold{k}/
    engine_trained = True
    needs_model_info = False  # RUN/model_info.json rebuilds its network
    backends = BACKENDS  # dygraph, and the exported models export.py writes
    gradcam = False  # predict.py --gradcam explains it
    trunk_cache = False  # train.cache_trunk may cache its frozen trunk

    def check(self, cfg: ExperimentConfig) -> None:
        """The config rules of this kind (ValueError)."""
        if cfg.train.cache_trunk and not self.trunk_cache:
            raise ValueError(f"train.cache_trunk is for image models, not model.kind {self.name}")

    def build(self, cfg: ExperimentConfig, info: dict | None = None) -> paddle.nn.Layer:
        """The network: for training (pretrained weights as configured), or with the
        run's ``info`` to load a checkpoint into (no download)."""
        raise NotImplementedError

    def datasets(self, cfg: ExperimentConfig, split) -> tuple[Any, Any]:
        """The training and validation datasets of a split."""
        raise NotImplementedError

    def model_info(self, model: paddle.nn.Layer, cfg: ExperimentConfig) -> dict | None:
        """What RUN/model_info.json keeps of a trained network (None: no file)."""
        return None

    def train_fold(self, cfg: ExperimentConfig, fold: int, out: Path) -> FoldResult:
        """Train one fold outside the engine (kinds with ``engine_trained = False``)."""
        raise NotImplementedError(f"model.kind {self.name} trains in the engine's loop")

    def load(self, run: Run) -> list[paddle.nn.Layer]:
        """One eval-mode network per fold checkpoint; a checkpoint must match the network
        key for key and shape for shape (BadInputError naming it otherwise)."""
        import paddle

        from .heads import upgrade_state

        models = []
        for ckpt in run.checkpoints:
            model = self.build(run.cfg, run.info)
            try:
                state = upgrade_state(paddle.load(str(ckpt)))
            except Exception as exc:  # truncated or foreign file: paddle raises many kinds
                raise BadInputError(
                    ckpt, f"not a readable checkpoint ({type(exc).__name__})"
                ) from None
            _check_state(ckpt, model.state_dict(), state)
            model.set_state_dict(state)
            model.eval()
            models.append(model)
        return models

    def predictors(self, run: Run, backend: str) -> list[Predictor]:
        """One predictor per fold: the dygraph networks, or the exported models run by
        Paddle Inference (oneDNN on the CPU) or ONNX Runtime."""
        from .predictors import (
            DygraphPredictor,
            OnnxPredictor,
            PaddleInferencePredictor,
            read_export_info,
        )

        if backend not in self.backends:
            raise BadInputError(run.path, f"a {self.name} run has no {backend} export")
        if backend == "dygraph":
            return [DygraphPredictor(m, run.cfg.data.task) for m in self.load(run)]
        folds = read_export_info(run.path)
        if backend == "paddle":
            return [PaddleInferencePredictor(f["model"], f["params"]) for f in folds]
        return [OnnxPredictor(f["onnx"]) for f in folds]

    def predict(
        self, predictors: list[Predictor], signals: list[np.ndarray], cfg: ExperimentConfig
    ) -> np.ndarray:
        """Mean probability over the fold predictors, one row per (12, n) mV signal."""
        raise NotImplementedError

    def input_specs(self, model: paddle.nn.Layer, cfg: ExperimentConfig) -> list:
        """The exported graph's named inputs (``paddle.static.InputSpec``)."""
        raise NotImplementedError


def _check_state(ckpt: Path, own: dict, theirs: Any) -> None:
    own_shapes = {k: list(v.shape) for k, v in own.items()}
    shapes = {k: list(v.shape) for k, v in theirs.items()} if isinstance(theirs, dict) else {}
    if own_shapes != shapes:
        differ = sorted(set(own_shapes) ^ set(shapes))
        differ = differ or [k for k in own_shapes if own_shapes[k] != shapes[k]]
        raise BadInputError(
            ckpt,
            f"does not match the run's network ({len(differ)} keys differ, e.g. "
            f"{differ[0]}: {shapes.get(differ[0])} vs {own_shapes.get(differ[0])})",
        )


@register_kind("image")
class ImageKind(ModelKind):
    """A ResNet on the record's rendered plot (+ STFT image, + extra views)."""

    needs_model_info = True
    gradcam = True
    trunk_cache = True

    def check(self, cfg: ExperimentConfig) -> None:
        super().check(cfg)
        if cfg.print_aug.p and cfg.data.source != "signal":
            raise ValueError("print_aug.p needs data.source: signal (prints drawn from the record)")

    def build(self, cfg: ExperimentConfig, info: dict | None = None) -> paddle.nn.Layer:
        from dataclasses import replace

        from .model import build_model

        model_cfg = cfg.model if info is None else replace(cfg.model, pretrained=None)
        return build_model(
            model_cfg,
            cfg.num_classes,
            two_stream=cfg.data.stft,
            stride_in_1x1=bool((info or {}).get("stride_in_1x1")),
            views=len(cfg.renders),
        )

    def datasets(self, cfg: ExperimentConfig, split) -> tuple[Any, Any]:
        from .data import ECGImageDataset

        return (
            ECGImageDataset(cfg, split.train, split.labels, train=True),
            ECGImageDataset(cfg, split.val, split.labels, train=False),
        )

    def model_info(self, model: paddle.nn.Layer, cfg: ExperimentConfig) -> dict:
        return {
            "stride_in_1x1": model.stride_in_1x1,
            "pretrained": cfg.model.pretrained,
            "load_report": model.load_report,
        }

    def predictors(self, run: Run, backend: str) -> list[Predictor]:
        """As every network kind; a cached-trunk run's frozen trunk runs once per batch
        for all folds (by ``train.trunk_backend``) when the folds share it."""
        if backend != "dygraph" or not run.cfg.train.cache_trunk:
            return super().predictors(run, backend)
        import logging

        from .predictors import DygraphPredictor
        from .trunk_graph import SharedTrunk, TopPredictor, same_trunk, trunk_runner

        models, task = self.load(run), run.cfg.data.task
        if same_trunk(models):
            trunk = SharedTrunk(trunk_runner(models[0], run.cfg.train.trunk_backend))
            return [TopPredictor(m, task, trunk) for m in models]
        logging.getLogger(__name__).warning(
            "the folds' frozen trunks differ (no pretrained weights?): each runs its own"
        )
        return [DygraphPredictor(m, task) for m in models]

    def predict(
        self, predictors: list[Predictor], signals: list[np.ndarray], cfg: ExperimentConfig
    ) -> np.ndarray:
        from .inputs import model_inputs, rendered_views

        per_record = [model_inputs(*rendered_views(s, cfg)) for s in signals]
        inputs = [np.stack(x) for x in zip(*per_record)]
        return np.mean([p(inputs) for p in predictors], axis=0)

    def input_specs(self, model: paddle.nn.Layer, cfg: ExperimentConfig) -> list:
        from paddle.static import InputSpec

        from .model import STRIDES

        size, m = cfg.render.size, model.cfg
        rows = -(-size // STRIDES[m.stages])  # rows (and columns) of the last stage's maps
        if m.head == "rows" and rows < max(m.head_rows, m.head_bins):
            raise ValueError(  # ONNX adaptive pooling to more cells than it has crashes
                f"render.size {size} gives {rows} rows and columns of maps, fewer than "
                f"model.head_rows ({m.head_rows}) or model.head_bins ({m.head_bins}): "
                "the rows head cannot be exported"
            )
        shape = [3, size, size] if model.views == 1 else [model.views, 3, size, size]
        names = ["plot", "stft"] if cfg.data.stft else ["plot"]
        return [InputSpec([None, *shape], "float32", n) for n in names]


@register_kind("signal1d")
class Signal1DKind(ModelKind):
    """A 1-D SE-ResNet on the signal itself, read in windows (the ``signal1d`` section)."""

    def build(self, cfg: ExperimentConfig, info: dict | None = None) -> paddle.nn.Layer:
        from .signal_model import build_signal_model

        return build_signal_model(cfg)

    def datasets(self, cfg: ExperimentConfig, split) -> tuple[Any, Any]:
        from .signal_data import SignalDataset

        return (
            SignalDataset(cfg, split.train, split.labels, train=True),
            SignalDataset(cfg, split.val, split.labels, train=False),
        )

    def predict(
        self, predictors: list[Predictor], signals: list[np.ndarray], cfg: ExperimentConfig
    ) -> np.ndarray:
        """Every window of every signal, then each class's largest probability over a
        signal's windows."""
        from .signal_model import signal_input, window_probs, windows

        parts = [windows(signal_input(s, cfg.signal1d), cfg.signal1d) for s in signals]
        rows = np.mean([p([np.concatenate(parts)]) for p in predictors], axis=0)
        return window_probs(rows, [len(w) for w in parts], cfg.data.task)

    def input_specs(self, model: paddle.nn.Layer, cfg: ExperimentConfig) -> list:
        from paddle.static import InputSpec

        return [InputSpec([None, 12, None], "float32", "signal")]  # windows of any length


@register_kind("features")
class FeatureKind(ModelKind):
    """scikit-learn HistGradientBoosting on measured signal features (``features``)."""

    checkpoint = FEATURE_CHECKPOINT
    engine_trained = False
    backends = ("dygraph",)  # scikit-learn on the signals; nothing to export

    def check(self, cfg: ExperimentConfig) -> None:
        super().check(cfg)
        if cfg.train.mixup:
            raise ValueError(
                "train.mixup is for image and 1-D runs (the feature model has no batches)"
            )
        if cfg.print_aug.p:
            raise ValueError("print_aug is for image and 1-D runs; use features.print_copies")

    def train_fold(self, cfg: ExperimentConfig, fold: int, out: Path) -> FoldResult:
        from .feature_model import train_feature_fold

        return train_feature_fold(cfg, fold, out)

    def load(self, run: Run) -> list:
        raise BadInputError(run.path, "a feature-model run has no network")

    def predictors(self, run: Run, backend: str) -> list[Predictor]:
        from .feature_model import FeaturePredictor

        if backend not in self.backends:
            raise BadInputError(run.path, f"a feature-model run has no {backend} export")
        return [FeaturePredictor(c) for c in run.checkpoints]

    def predict(
        self, predictors: list[Predictor], signals: list[np.ndarray], cfg: ExperimentConfig
    ) -> np.ndarray:
        return np.mean([p(signals) for p in predictors], axis=0)

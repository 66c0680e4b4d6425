"""The frozen trunk as a static graph run by Paddle Inference (oneDNN kernels on the CPU).

Training with ``train.cache_trunk`` and predicting with such a run spend most of their
time in the frozen stages. Eager Paddle runs them at about a quarter of the cores' fp32
peak; the same stages saved with ``paddle.jit.save`` and run by Paddle Inference give the
same maps (float32 rounding) several times faster (``benchmarks/trunk_speed.py``).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import paddle
from paddle.static import InputSpec

from .model import ECGClassifier, probabilities
from .predictors import PaddleInferencePredictor

TRUNK_BACKENDS = ("inference", "eager")
STEM = "trunk"


class TrunkNet(paddle.nn.Layer):
    """Normalised images (N, 3, H, W) -> the model's frozen-trunk maps."""

    def __init__(self, model: ECGClassifier):
        super().__init__()
        self.model = model

    def forward(self, plot):
        return self.model.trunk(plot)


class TrunkGraph:
    """``model``'s trunk saved as a graph (any batch and image size) and loaded into a
    Paddle Inference predictor; called on float32 (N, 3, H, W), returns float32 maps."""

    def __init__(self, model: ECGClassifier, threads: int = 0):
        was_training = model.training
        net = TrunkNet(model)
        net.eval()
        with tempfile.TemporaryDirectory(prefix="ecgplot-trunk-") as tmp:
            prefix = str(Path(tmp) / STEM)
            spec = [InputSpec([None, 3, None, None], "float32", "plot")]
            paddle.jit.save(net, prefix, input_spec=spec)
            model_file = next(p for p in Path(tmp).iterdir() if p.suffix in (".json", ".pdmodel"))
            self.run = PaddleInferencePredictor(str(model_file), prefix + ".pdiparams", threads)
        if was_training:
            model.train()

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        return self.run([batch.astype(np.float32, copy=False)])


def trunk_runner(
    model: ECGClassifier, backend: str = "inference", threads: int = 0
) -> Callable[[np.ndarray], np.ndarray]:
    """A function from normalised images (N, 3, H, W) to the model's frozen-trunk maps,
    run by Paddle Inference (``inference``) or by the dygraph model (``eager``)."""
    if backend == "inference":
        return TrunkGraph(model, threads)
    if backend == "eager":

        @paddle.no_grad()
        def eager(batch: np.ndarray) -> np.ndarray:
            return model.trunk(paddle.to_tensor(batch)).numpy()

        return eager
    raise ValueError(f"unknown trunk backend {backend!r}; choose from {TRUNK_BACKENDS}")


def frozen_state(model: ECGClassifier) -> list[np.ndarray]:
    """The weights and BatchNorm statistics of the model's frozen stages."""
    return [t.numpy() for layer in model.frozen_layers() for t in layer.state_dict().values()]


def same_trunk(models: list[ECGClassifier]) -> bool:
    """Whether every model has the first one's frozen stages, weight for weight (the
    folds of a cached-trunk run all start from, and keep, the same pretrained trunk)."""
    first = frozen_state(models[0])
    return bool(first) and all(
        len(state) == len(first) and all(np.array_equal(a, b) for a, b in zip(state, first))
        for state in map(frozen_state, models[1:])
    )


class SharedTrunk:
    """Trunk maps of the batch last asked for, computed once for all the folds that ask
    for the same batch object. Takes (N, 3, H, W) or a stack of views (N, V, 3, H, W),
    whose maps are stacked on channels (N, V * C, h, w) as :meth:`ECGClassifier.trunk`
    stacks them."""

    def __init__(self, run: Callable[[np.ndarray], np.ndarray], batch_size: int = 16):
        self.run, self.batch_size = run, batch_size
        self._plots: np.ndarray | None = None
        self._maps: np.ndarray | None = None

    def __call__(self, plots: np.ndarray) -> np.ndarray:
        if plots is not self._plots:
            images = plots.reshape(-1, *plots.shape[-3:])
            maps = np.concatenate(
                [
                    self.run(images[i : i + self.batch_size])
                    for i in range(0, len(images), self.batch_size)
                ]
            )
            self._maps = maps.reshape(len(plots), -1, *maps.shape[-2:])
            self._plots = plots
        return self._maps


class TopPredictor:
    """One fold's trained stages and head on maps from a :class:`SharedTrunk`."""

    def __init__(self, model: ECGClassifier, task: int, trunk: SharedTrunk):
        self.model, self.task, self.trunk = model, task, trunk

    @paddle.no_grad()
    def __call__(self, inputs: list[np.ndarray]) -> np.ndarray:
        logits = self.model.top(paddle.to_tensor(self.trunk(inputs[0])))
        return probabilities(logits, self.task)

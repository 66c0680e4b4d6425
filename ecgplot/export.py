"""Export a run's fold models to Paddle inference format and ONNX (the backends that run
them: :mod:`ecgplot.predictors`).

The exported graphs output probabilities (task 1 softmax over normal/abnormal, task 2
independent sigmoids), so every backend returns the same numbers as the dygraph model.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from pathlib import Path

import paddle
from paddle.static import InputSpec

from .aiwin import BadInputError
from .atomic import atomic_path, atomic_write
from .infer import load_run
from .kinds import get_kind
from .model import activation
from .run_folder import EXPORT_DIR, EXPORT_INFO

log = logging.getLogger(__name__)

MODEL_STEM = "inference"


class PlotProbabilities(paddle.nn.Layer):
    """The model's input (a plot image, or a signal window) -> class probabilities."""

    def __init__(self, model: paddle.nn.Layer, task: int):
        super().__init__()
        self.model = model
        self.task = task

    def forward(self, plot):
        return activation(self.model(plot), self.task)


class TwoStreamProbabilities(PlotProbabilities):
    """Plot and STFT images -> class probabilities."""

    def forward(self, plot, stft):
        return activation(self.model(plot, stft), self.task)


def export_model(model: paddle.nn.Layer, specs: list[InputSpec], task: int, out: Path) -> dict:
    """``paddle.jit.save`` the probability model with inputs ``specs`` (the kind's
    :meth:`~ecgplot.kinds.ModelKind.input_specs`) to ``out/inference.*`` and convert it
    to ``out/model.onnx`` with paddle2onnx. Returns the file paths."""
    import paddle2onnx

    model.eval()
    wrapper = (TwoStreamProbabilities if len(specs) == 2 else PlotProbabilities)(model, task)
    wrapper.eval()
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".jit-", dir=out) as tmp:
        paddle.jit.save(wrapper, str(Path(tmp) / MODEL_STEM), input_spec=specs)
        for written in sorted(Path(tmp).iterdir()):  # each file replaces the old one whole
            os.replace(written, out / written.name)
    model_file = next(
        out / f"{MODEL_STEM}{ext}"
        for ext in (".json", ".pdmodel")
        if (out / f"{MODEL_STEM}{ext}").is_file()
    )
    params_file = out / f"{MODEL_STEM}.pdiparams"
    onnx_file = out / "model.onnx"
    with atomic_path(onnx_file) as tmp:
        paddle2onnx.export(str(model_file), str(params_file), str(tmp))
    names = [s.name for s in specs]
    return {"model": model_file, "params": params_file, "onnx": onnx_file, "inputs": names}


def export_run(path: str | Path) -> Path:
    """Export every fold of a run to ``RUN/export/fold{k}/`` (Paddle inference + ONNX)."""
    run = load_run(path)
    kind = get_kind(run.cfg.model.kind)
    if "paddle" not in kind.backends:
        raise BadInputError(run.path, f"a {kind.name} run has no network to export")
    folds = []
    for ckpt, model in zip(run.checkpoints, kind.load(run)):
        out = run.path / EXPORT_DIR / ckpt.parent.name
        files = export_model(model, kind.input_specs(model, run.cfg), run.cfg.data.task, out)
        for key in ("model", "params", "onnx"):  # relative: the run folder can move
            files[key] = str(files[key].relative_to(run.path))
        folds.append(files)
        log.info("exported %s -> %s", ckpt, out)
    info = run.path / EXPORT_DIR / EXPORT_INFO
    with atomic_write(info) as fh:
        json.dump({"task": run.cfg.data.task, "folds": folds}, fh, indent=1)
    return info

"""Export a run's fold models to Paddle inference format and ONNX; backends to run them.

The exported graphs output probabilities (task 1 softmax over normal/abnormal, task 2
independent sigmoids), so every backend returns the same numbers as the dygraph model.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from pathlib import Path

import numpy as np
import paddle
from paddle.static import InputSpec

from .atomic import atomic_path
from .model import STRIDES, ECGClassifier, activation, probabilities
from .signal_model import SEResNet1D

log = logging.getLogger(__name__)

EXPORT_DIR = "export"
MODEL_STEM = "inference"


class PlotProbabilities(paddle.nn.Layer):
    """The model's input (a plot image, or a signal window) -> class probabilities."""

    def __init__(self, model: ECGClassifier, task: int):
        super().__init__()
        self.model = model
        self.task = task

    def forward(self, plot):
        return activation(self.model(plot), self.task)


class TwoStreamProbabilities(PlotProbabilities):
    """Plot and STFT images -> class probabilities."""

    def forward(self, plot, stft):
        return activation(self.model(plot, stft), self.task)


def _check_exportable(cfg, size: int) -> None:
    rows = -(-size // STRIDES[cfg.stages])  # rows (and columns) of the last stage's maps
    if cfg.head == "rows" and rows < max(cfg.head_rows, cfg.head_bins):
        raise ValueError(  # ONNX adaptive pooling to more cells than it has crashes
            f"render.size {size} gives {rows} rows and columns of maps, fewer than "
            f"model.head_rows ({cfg.head_rows}) or model.head_bins ({cfg.head_bins}): "
            "the rows head cannot be exported"
        )


def export_model(
    model: ECGClassifier | SEResNet1D, task: int, size: int, two_stream: bool, out: Path
) -> dict:
    """``paddle.jit.save`` the probability model to ``out/inference.*`` and convert it to
    ``out/model.onnx`` with paddle2onnx. Returns the file paths."""
    import paddle2onnx

    model.eval()
    if isinstance(model, SEResNet1D):  # windows of any length: (N, 12, T)
        names = ["signal"]
        specs = [InputSpec([None, 12, None], "float32", "signal")]
    else:
        _check_exportable(model.cfg, size)
        names = ["plot", "stft"] if two_stream else ["plot"]
        shape = [3, size, size] if model.views == 1 else [model.views, 3, size, size]
        specs = [InputSpec([None, *shape], "float32", n) for n in names]
    wrapper = (TwoStreamProbabilities if two_stream else PlotProbabilities)(model, task)
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
    return {"model": model_file, "params": params_file, "onnx": onnx_file, "inputs": names}


class DygraphPredictor:
    """The trained dygraph model."""

    def __init__(self, model: ECGClassifier, task: int):
        self.model, self.task = model, task

    @paddle.no_grad()
    def __call__(self, inputs: list[np.ndarray]) -> np.ndarray:
        return probabilities(self.model(*[paddle.to_tensor(x) for x in inputs]), self.task)


class PaddleInferencePredictor:
    """Paddle Inference on the exported model; oneDNN kernels on the CPU."""

    def __init__(self, model_file: str, params_file: str, threads: int = 0, onednn: bool = True):
        from paddle import inference

        config = inference.Config(model_file, params_file)
        if paddle.device.is_compiled_with_cuda() and paddle.device.cuda.device_count() > 0:
            config.enable_use_gpu(256, 0)
        else:
            config.disable_gpu()
            config.set_cpu_math_library_num_threads(threads or len(os.sched_getaffinity(0)))
            if onednn:
                config.enable_mkldnn()
        config.disable_glog_info()
        self.predictor = inference.create_predictor(config)
        self.inputs = self.predictor.get_input_names()

    def __call__(self, inputs: list[np.ndarray]) -> np.ndarray:
        for name, x in zip(self.inputs, inputs):
            self.predictor.get_input_handle(name).copy_from_cpu(np.ascontiguousarray(x))
        self.predictor.run()
        return self.predictor.get_output_handle(self.predictor.get_output_names()[0]).copy_to_cpu()


class OnnxPredictor:
    """ONNX Runtime on the converted model."""

    def __init__(self, onnx_file: str, threads: int = 0):
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or len(os.sched_getaffinity(0))
        options.log_severity_level = 3  # paddle2onnx leaves unused initializers: not errors
        self.session = ort.InferenceSession(onnx_file, options, providers=["CPUExecutionProvider"])
        self.inputs = [i.name for i in self.session.get_inputs()]

    def __call__(self, inputs: list[np.ndarray]) -> np.ndarray:
        return self.session.run(None, dict(zip(self.inputs, inputs)))[0]


def read_export_info(run_dir: Path) -> list[dict]:
    """The exported folds of a run, paths resolved against the run folder (export.json
    stores them relative to it, so a run folder can be moved or used from anywhere)."""
    info = run_dir / EXPORT_DIR / "export.json"
    if not info.is_file():
        raise FileNotFoundError(f"{info} not found: export the run first (python export.py)")
    folds = json.loads(info.read_text())["folds"]
    keys = ("model", "params", "onnx")
    return [{**f, **{k: str(run_dir / f[k]) for k in keys}} for f in folds]

"""The backends that run a trained fold: the dygraph network, Paddle Inference on its
export (oneDNN on the CPU) and ONNX Runtime. Each maps a batch's input arrays to class
probabilities, as the exported graphs output them (:mod:`ecgplot.export`)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import paddle

from .model import probabilities
from .run_folder import EXPORT_DIR, EXPORT_INFO


class DygraphPredictor:
    """The trained dygraph model."""

    def __init__(self, model: paddle.nn.Layer, task: int):
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
    info = run_dir / EXPORT_DIR / EXPORT_INFO
    if not info.is_file():
        raise FileNotFoundError(f"{info} not found: export the run first (python export.py)")
    folds = json.loads(info.read_text())["folds"]
    keys = ("model", "params", "onnx")
    return [{**f, **{k: str(run_dir / f[k]) for k in keys}} for f in folds]

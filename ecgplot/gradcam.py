"""Grad-CAM on the last ResNet stage the model runs, overlaid on the ECG plot image."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import paddle

from .aiwin import CLASS_NAMES, read_record
from .atomic import atomic_write_bytes
from .inputs import model_inputs, rendered_views
from .model import ECGClassifier
from .process import encode_png


def grad_cam(model: ECGClassifier, inputs: list[np.ndarray], target: int) -> np.ndarray:
    """Class-activation map (H, W) in [0, 1] for class index ``target`` of one input:
    last-stage activations weighted by the spatial mean of their gradients (Selvaraju et al.)."""
    model.eval()
    captured = []  # one activation per view: a stack of views runs the stage once a view

    def hook(_layer, _inputs, output):
        captured.append(output)
        return output

    handle = model.last_stage().register_forward_post_hook(hook)
    try:
        tensors = [paddle.to_tensor(x[None]) for x in inputs]
        for t in tensors:
            t.stop_gradient = False
        logits = model(*tensors)
        acts = captured[: model.views]  # the plot's (a shared STFT backbone runs after)
        grads = paddle.grad(logits[0, target], acts)
    finally:
        handle.remove()
    cam = sum(  # the views share the layout: their maps add up
        paddle.nn.functional.relu((g.mean(axis=[2, 3], keepdim=True) * a).sum(axis=1))[0]
        for a, g in zip(acts, grads)
    ).numpy()
    size = inputs[0].shape[-1]
    cam = cv2.resize(cam, (size, size), interpolation=cv2.INTER_LINEAR)
    return cam / cam.max() if cam.max() > 0 else cam


def overlay(image: np.ndarray, cam: np.ndarray, alpha: float = 0.45) -> np.ndarray:
    """Heat map (jet) of ``cam`` blended over the ECG image (grayscale or RGB), BGR uint8."""
    heat = cv2.applyColorMap((cam * 255).astype(np.uint8), cv2.COLORMAP_JET)
    base = cv2.cvtColor(image, cv2.COLOR_RGB2BGR if image.ndim == 3 else cv2.COLOR_GRAY2BGR)
    return cv2.addWeighted(heat, alpha, base, 1 - alpha, 0)


def save_gradcams(run, data: Path, names: list[str], out: Path) -> list[Path]:
    """Grad-CAM PNG per record name (first fold model) for its most probable class."""
    from .infer import find_records, load_models

    model = load_models(run)[0]
    cfg = run.cfg
    by_name = {p.stem: p for p in find_records(data)}
    written = []
    for name in names:
        if name not in by_name:
            raise FileNotFoundError(f"record {name} not found in {data}")
        plot, stft = rendered_views(read_record(by_name[name]).signal, cfg)
        inputs = model_inputs(plot, stft)
        with paddle.no_grad():
            logits = model(*[paddle.to_tensor(x[None]) for x in inputs]).numpy()[0]
        target = int(np.argmax(logits))
        label = ("normal", "abnormal")[target] if cfg.data.task == 1 else CLASS_NAMES[target]
        image = overlay(plot if plot.ndim == 2 else plot[0], grad_cam(model, inputs, target))
        cv2.putText(
            image,
            f"{name}: {label}",
            (4, 14),
            cv2.FONT_HERSHEY_SIMPLEX,
            0.45,
            (0, 0, 0),
            1,
            cv2.LINE_AA,
        )
        path = out / f"{name}_gradcam.png"
        atomic_write_bytes(path, encode_png(image))
        written.append(path)
    return written

"""One upload analysed for the web page: a picture (or a PDF's first page) read by the
digitiser, or a MAT record; what was read, drawn; every run's answer and the fusion's;
the image models' Grad-CAM."""

from __future__ import annotations

import base64
import logging
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from ..aiwin import CLASS_NAMES, FS, SIGNAL_FORMATS, read_record, write_labels, write_signal
from ..decide import decide
from ..digitize.folder import Reading, report_row
from ..digitize.overlay import draw_reading
from ..digitize.reader import read_print
from ..ensemble import Fusion
from ..gradcam import grad_cam, overlay
from ..infer import Run, load_models, load_predictors, load_run, predict_signals
from ..inputs import model_inputs, rendered_views
from ..kinds import get_kind
from ..pictures import read_pages
from ..plots import lead_grid_png

log = logging.getLogger(__name__)
RECORD_SUFFIX = ".mat"


@dataclass
class LoadedRun:
    """A run ready to answer: its fold predictors, and for Grad-CAM its first fold's
    network (kinds that explain themselves)."""

    name: str
    run: Run
    predictors: list
    network: object | None


def load_runs(paths: list[Path]) -> list[LoadedRun]:
    """Every run loaded once (BadInputError naming a folder that is not a run)."""
    loaded = []
    for path in paths:
        run = load_run(path)
        kind = get_kind(run.cfg.model.kind)
        network = load_models(run)[0] if kind.gradcam else None
        loaded.append(LoadedRun(Path(path).name, run, load_predictors(run), network))
    tasks = {r.run.cfg.data.task for r in loaded}
    if len(tasks) > 1:
        raise ValueError(f"the runs answer different tasks ({sorted(tasks)}): serve one task")
    return loaded


@dataclass
class Analysis:
    """What the page shows of one upload (``payload``, JSON) and the record read."""

    name: str
    signal: np.ndarray
    answer_row: str
    payload: dict


def png_url(rgb_or_png: np.ndarray | bytes) -> str:
    """A data URL of a PNG (or of an RGB / grey image, encoded here)."""
    if isinstance(rgb_or_png, np.ndarray):
        img = rgb_or_png if rgb_or_png.ndim == 2 else cv2.cvtColor(rgb_or_png, cv2.COLOR_RGB2BGR)
        rgb_or_png = cv2.imencode(".png", img)[1].tobytes()
    return "data:image/png;base64," + base64.b64encode(rgb_or_png).decode("ascii")


class Analyser:
    """Reads uploads and asks every run; one at a time (paddle networks are not shared
    between threads)."""

    def __init__(self, runs: list[LoadedRun]):
        self.runs = runs
        self.task = runs[0].run.cfg.data.task
        self.lock = threading.Lock()

    def analyse(self, name: str, path: Path) -> Analysis:
        """The page's view of the file at ``path`` (the upload), named ``name``."""
        with self.lock:
            if path.suffix.lower() == RECORD_SUFFIX:
                signal, shown = read_record(path).signal, {"source": "record"}
            else:
                signal, shown = self._picture(name, path)
            answers, probs = zip(*(self._answer(r, name, signal) for r in self.runs))
            fusion = self._fusion(name, np.stack(probs)) if len(probs) > 1 else None
            row = (fusion or answers[0])["answer_row"]
            title = f"{name}: the 12 leads as read" if shown["source"] == "picture" else name
            payload = shown | {
                "name": name,
                "task": self.task,
                "leads": png_url(lead_grid_png(signal, FS, title)),
                "runs": list(answers),
                "fusion": fusion,
            }
            return Analysis(name, signal, row, payload)

    def _picture(self, name: str, path: Path) -> tuple[np.ndarray, dict]:
        pages = read_pages(path)
        reading = read_print(pages[0], name)
        got = reading.digitized
        report = report_row(Reading(name, path, got))
        report = {k: v for k, v in report.items() if k not in ("file", "problem")}
        drawn = draw_reading(reading.picture, reading.page, got.signal)
        return got.signal, {
            "source": "picture",
            "pages": len(pages),
            "report": report,
            "overlay": png_url(drawn),
        }

    def _classes(self) -> list[str]:
        return ["abnormal"] if self.task == 1 else list(CLASS_NAMES)

    def _decided(self, name: str, probs: np.ndarray, thresholds) -> dict:
        """Probabilities shown (task 1: of abnormal), labels and the answer.csv row."""
        labels = decide(probs[None], self.task, thresholds)[0]
        shown = probs[1:] if self.task == 1 else probs
        return {
            "classes": self._classes(),
            "probs": [round(float(p), 4) for p in shown],
            "answer": labels if self.task == 2 else int(labels),
            "answer_row": answer_row(name, labels, self.task),
        }

    def _answer(self, loaded: LoadedRun, name: str, signal: np.ndarray) -> tuple[dict, np.ndarray]:
        """(what the page shows of one run's answer, its probabilities)."""
        cfg = loaded.run.cfg
        probs = predict_signals(loaded.predictors, [signal], cfg)[0]
        out = {"run": loaded.name, "kind": cfg.model.kind}
        out |= self._decided(name, probs, loaded.run.thresholds)
        out["gradcam"] = self._gradcam(loaded, signal, probs) if loaded.network else None
        return out, probs

    def _gradcam(self, loaded: LoadedRun, signal: np.ndarray, probs: np.ndarray) -> str:
        """Grad-CAM of the most probable class (task 1: abnormal) on the model's view."""
        plot, stft = rendered_views(signal, loaded.run.cfg)  # as the model saw it
        target = 1 if self.task == 1 else int(np.argmax(probs))
        cam = grad_cam(loaded.network, model_inputs(plot, stft), target)
        return png_url(overlay(plot if plot.ndim == 2 else plot[0], cam))

    def _fusion(self, name: str, probs: np.ndarray) -> dict:
        """The runs' mean-logit fusion at 0.5 (``ensemble.py --method mean`` without its
        thresholds, which need out-of-fold predictions)."""
        stack = probs[:, None]  # (runs, 1 record, classes)
        probs = Fusion("mean", self.task).fit(stack, None).predict(stack)[0]
        return {"run": "fusion (mean logit)", "kind": "fusion"} | self._decided(name, probs, None)


def answer_row(name: str, labels, task: int) -> str:
    """The record's lines of answer.csv in the task's format (task 1 with its header)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "answer.csv"
        write_labels(path, {name: labels}, task)
        return path.read_text()


def signal_files(name: str, signal: np.ndarray, fmt: str) -> dict[str, bytes]:
    """The record's files in ``fmt`` (``SIGNAL_FORMATS``), by file name."""
    if fmt not in SIGNAL_FORMATS:
        raise ValueError(f"unknown format {fmt!r}")
    with tempfile.TemporaryDirectory() as tmp:
        return {p.name: p.read_bytes() for p in write_signal(Path(tmp) / name, signal, fmt)}

"""Render an AIWIN dataset folder to PNG images, with k-fold splits and example renders.

Input ``DATA/``: ``trainreference.csv`` + ``train/*.mat`` and optionally ``val/`` or
``test/`` (unlabelled). Output ``OUT/``::

    images/{split}/NAME.png    plot images (RenderConfig)
    stft/{split}/NAME.png      STFT images, when enabled
    folds.csv                  name,fold for the labelled training records
    render.yaml                the render settings the images were made with
    examples.png               a few renders with their labels, to look at
    bad_records.csv            records skipped with --skip-bad, and why
    process.log
"""

from __future__ import annotations

import contextlib
import csv
import fcntl
import logging
import multiprocessing as mp
import os
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from .aiwin import (
    CLASS_NAMES,
    BadInputError,
    detect_task,
    list_records,
    read_labels,
    read_record,
    write_bad_records,
)
from .atomic import atomic_write, atomic_write_bytes
from .config import dump_yaml, load_yaml, to_dict
from .render import RenderConfig, render_plot, render_stft
from .splits import assign_folds

log = logging.getLogger(__name__)

LABEL_FILE = "trainreference.csv"
SPLITS = ("train", "val", "test")
N_EXAMPLES = 6
LOCK_FILE = ".lock"


@dataclass
class ProcessResult:
    """What a run did; ``bad`` maps record path to the problem found."""

    task: int
    n_rendered: int = 0
    n_up_to_date: int = 0
    bad: dict[str, str] = field(default_factory=dict)
    folds: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class _Job:
    src: Path
    plot: Path
    stft: Path | None


def encode_png(img: np.ndarray) -> bytes:
    """PNG bytes of a uint8 grayscale or RGB image (fast compression: the images are
    regenerated data)."""
    if img.ndim == 3:
        img = cv2.cvtColor(img, cv2.COLOR_RGB2BGR)
    ok, buf = cv2.imencode(".png", img, [cv2.IMWRITE_PNG_COMPRESSION, 1])
    if not ok:
        raise RuntimeError("PNG encoding failed")
    return buf.tobytes()


def _render_job(job: _Job, cfg: RenderConfig) -> str | None:
    """Render one record; returns the problem text for a bad record, else None."""
    try:
        record = read_record(job.src)
    except BadInputError as exc:
        return exc.problem
    atomic_write_bytes(job.plot, encode_png(render_plot(record.signal, cfg)))
    if job.stft is not None:
        atomic_write_bytes(job.stft, encode_png(render_stft(record.signal, cfg)))
    return None


def _worker_init() -> None:
    cv2.setNumThreads(1)


def _render_star(args: tuple[_Job, RenderConfig]) -> str | None:
    return _render_job(*args)


def _is_fresh(job: _Job, settings_time: int) -> bool:
    """Rendered after its record changed and after the settings were last recorded."""
    outs = [job.plot] + ([job.stft] if job.stft else [])
    since = max(job.src.stat().st_mtime_ns, settings_time)
    return all(p.is_file() and p.stat().st_mtime_ns >= since for p in outs)


def check_labels(
    label_file: Path, labels: Mapping[str, object], names: Sequence[str], skip_bad: bool
) -> dict[str, str]:
    """Cross-check label names and record files; returns {record: problem} when skipping."""
    on_disk = set(names)
    unknown = sorted(set(labels) - on_disk)
    if unknown and not skip_bad:
        raise BadInputError(
            label_file,
            f"{len(unknown)} labelled records lack a MAT file in train/: {', '.join(unknown[:10])} "
            "(use --skip-bad to skip them)",
        )
    unlabelled = sorted(on_disk - set(labels))
    if unlabelled and not skip_bad:
        raise BadInputError(
            label_file,
            f"{len(unlabelled)} records in train/ have no label: {', '.join(unlabelled[:10])} "
            "(use --skip-bad to skip them)",
        )
    skipped = {name: "no label in trainreference.csv" for name in unlabelled}
    skipped.update({name: "labelled, but no MAT file in train/" for name in unknown})
    return skipped


@contextlib.contextmanager
def output_lock(out: Path) -> Iterator[None]:
    """Hold ``OUT/.lock`` (an advisory ``flock``, released when the process ends, however
    it ends): a second run on the same folder refuses instead of mixing images."""
    out.mkdir(parents=True, exist_ok=True)
    with open(out / LOCK_FILE, "a+") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            holder = fh.read().strip() or "another process"
            raise BadInputError(
                out, f"another process.py is rendering into this folder (pid {holder})"
            ) from None
        fh.truncate(0)
        fh.write(str(os.getpid()))
        fh.flush()
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def process_dataset(
    data: str | Path,
    out: str | Path,
    cfg: RenderConfig,
    task: int | None = None,
    stft: bool = False,
    workers: int | None = None,
    skip_bad: bool = False,
    n_folds: int = 5,
    seed: int = 42,
) -> ProcessResult:
    """Render every record of ``data`` into ``out`` (see the module docstring), holding
    the folder's lock. The settings are recorded in ``render.yaml`` before anything is
    rendered, so an interrupted run resumes where it stopped and never mixes settings."""
    data, out = Path(data), Path(out)
    if out.exists() and not out.is_dir():
        raise BadInputError(out, "--out is a file; give a folder")
    with output_lock(out):
        return _process(data, out, cfg, task, stft, workers, skip_bad, n_folds, seed)


def _write_settings(out: Path, cfg: RenderConfig, stft: bool) -> int:
    """``render.yaml`` (rewritten only when the settings changed, before any image, so
    images older than it are stale); its modification time in ns."""
    render_file = out / "render.yaml"
    settings = {"render": to_dict(cfg), "stft": stft}
    if not (render_file.is_file() and load_yaml(render_file) == settings):
        if render_file.is_file():
            log.info("render settings changed since the last run: re-rendering everything")
        with atomic_write(render_file) as fh:
            fh.write(dump_yaml(settings))
    return render_file.stat().st_mtime_ns


def _jobs(data: Path, out: Path, stft: bool, skipped: set[str]) -> list[_Job]:
    """One render job per record of every split folder (train records with bad labels
    left out)."""
    jobs: list[_Job] = []
    for split in SPLITS:
        split_dir = data / split
        if not split_dir.is_dir():
            continue
        for src in list_records(split_dir):
            if split == "train" and src.stem in skipped:
                continue
            plot = out / "images" / split / f"{src.stem}.png"
            stft_png = out / "stft" / split / f"{src.stem}.png" if stft else None
            jobs.append(_Job(src, plot, stft_png))
    return jobs


def _training_labels(
    data: Path, task: int | None, skip_bad: bool, n_folds: int
) -> tuple[int, dict, dict[str, str]]:
    """(task, labels, problems of the labelled records skipped) of an AIWIN folder: the
    label file must fit the task, and the folds the labelled records."""
    label_file = data / LABEL_FILE
    train_dir = data / "train"
    if not train_dir.is_dir():
        raise BadInputError(data, "no train/ folder of MAT records")
    task = task or detect_task(label_file)
    if detect_task(label_file) != task:
        raise BadInputError(label_file, f"does not look like a task-{task} label file")
    labels = read_labels(label_file, task)
    train_names = [p.stem for p in list_records(train_dir)]
    skipped = check_labels(label_file, labels, train_names, skip_bad)
    n_labelled = sum(n not in skipped for n in labels)
    if not 2 <= n_folds <= n_labelled:
        raise BadInputError(
            label_file, f"--folds {n_folds} needs 2 to {n_labelled} (the labelled records)"
        )
    return task, labels, skipped


def _process(
    data: Path,
    out: Path,
    cfg: RenderConfig,
    task: int | None,
    stft: bool,
    workers: int | None,
    skip_bad: bool,
    n_folds: int,
    seed: int,
) -> ProcessResult:
    train_dir = data / "train"
    task, labels, skipped = _training_labels(data, task, skip_bad, n_folds)
    result = ProcessResult(task=task)
    for name, problem in skipped.items():
        result.bad[str(train_dir / f"{name}.mat")] = problem
    settings_time = _write_settings(out, cfg, stft)
    jobs = _jobs(data, out, stft, set(skipped))
    todo = [j for j in jobs if not _is_fresh(j, settings_time)]
    result.n_up_to_date = len(jobs) - len(todo)
    log.info("%d records, %d up to date, %d to render", len(jobs), result.n_up_to_date, len(todo))

    workers = workers or min(len(os.sched_getaffinity(0)), 8)
    problems = _run_jobs(todo, cfg, workers)
    for job, problem in zip(todo, problems):
        if problem is None:
            result.n_rendered += 1
            continue
        if not skip_bad:
            raise BadInputError(job.src, problem)
        result.bad[str(job.src)] = problem
        log.warning("skipped %s: %s", job.src, problem)

    bad_names = {Path(p).stem for p in result.bad if Path(p).parent == train_dir}
    good = {n: labels[n] for n in labels if n not in bad_names}
    result.folds = assign_folds(good, task, n_folds, seed)
    _write_folds(out / "folds.csv", result.folds)
    if result.bad:
        write_bad_records(out / "bad_records.csv", result.bad)
    save_examples(out / "examples.png", out / "images" / "train", good, task, stft)
    log.info(
        "rendered %d, up to date %d, bad %d; %d-fold splits in %s",
        result.n_rendered,
        result.n_up_to_date,
        len(result.bad),
        n_folds,
        out / "folds.csv",
    )
    return result


def _run_jobs(jobs: list[_Job], cfg: RenderConfig, workers: int) -> list[str | None]:
    args = [(j, cfg) for j in jobs]
    bar = dict(total=len(jobs), desc="render", unit="rec", disable=None)
    if workers <= 1 or len(jobs) < 2 * workers:
        _worker_init()
        return [_render_job(j, cfg) for j in tqdm(jobs, **bar)]
    chunk = max(1, min(32, len(jobs) // (workers * 4)))
    # forkserver: workers start from a clean process, never forked from one whose OpenCV,
    # OpenMP or Paddle thread pools hold locks (a forked child can hang on them)
    method = "forkserver" if "forkserver" in mp.get_all_start_methods() else "spawn"
    with ProcessPoolExecutor(
        workers, mp_context=mp.get_context(method), initializer=_worker_init
    ) as pool:
        return list(tqdm(pool.map(_render_star, args, chunksize=chunk), **bar))


def _write_folds(path: Path, folds: Mapping[str, int]) -> None:
    with atomic_write(path, newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["name", "fold"])
        writer.writerows(sorted(folds.items()))


def read_folds(path: str | Path) -> dict[str, int]:
    """Read ``folds.csv`` written by :func:`process_dataset`."""
    with open(path, newline="") as fh:
        return {row["name"]: int(row["fold"]) for row in csv.DictReader(fh)}


def describe_labels(value: int | Sequence[int], task: int) -> str:
    """Human-readable labels: task 1 normal/abnormal, task 2 class names."""
    if task == 1:
        return "abnormal" if value else "normal"
    return ", ".join(CLASS_NAMES[i - 1] for i in value)


def save_examples(
    path: Path, image_dir: Path, labels: Mapping[str, object], task: int, stft: bool
) -> None:
    """A PNG montage of the first few training renders titled with name and labels."""
    from .plots import plt, save_figure  # plots selects the Agg backend first

    names = [n for n in sorted(labels) if (image_dir / f"{n}.png").is_file()][:N_EXAMPLES]
    if not names:
        return
    cols = 2 if stft else 3
    rows = (len(names) + cols - 1) // cols if not stft else len(names[:3])
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 4.5 * rows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    if stft:
        stft_dir = image_dir.parent.parent / "stft" / image_dir.name
        for r, name in enumerate(names[:rows]):
            for c, folder in enumerate((image_dir, stft_dir)):
                axes[r, c].imshow(cv2.imread(str(folder / f"{name}.png"), 0), cmap="gray")
                kind = "plot" if c == 0 else "STFT"
                title = f"{name} ({kind}): {describe_labels(labels[name], task)}"
                axes[r, c].set_title(title, fontsize=8)
    else:
        for ax, name in zip(axes.flat, names):
            ax.imshow(cv2.imread(str(image_dir / f"{name}.png"), 0), cmap="gray", vmin=0, vmax=255)
            ax.set_title(f"{name}: {describe_labels(labels[name], task)}", fontsize=8)
    save_figure(fig, path, dpi=100)

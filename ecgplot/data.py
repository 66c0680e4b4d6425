"""Paddle datasets over rendered PNGs or MAT records, with splits and image transforms."""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from pathlib import Path

import albumentations as A
import cv2
import numpy as np
import paddle

from .aiwin import BadInputError, labels_to_multihot, read_labels, read_record
from .augment import AsPrint, build_signal_augment
from .config import load_yaml, to_dict
from .experiment import ExperimentConfig, ImageAugConfig
from .inputs import render_images, stack_views
from .pretrained import IMAGENET_MEAN, IMAGENET_STD
from .process import LABEL_FILE, read_folds
from .splits import assign_folds


def build_image_augment(cfg: ImageAugConfig) -> A.Compose | None:
    """albumentations for ECG plots: small shifts/scales, blur, contrast, erasing; no flips
    or rotations, which would change what the leads mean."""
    if not cfg.enabled:
        return None
    return A.Compose(
        [
            A.Affine(
                translate_percent=(-cfg.shift, cfg.shift),
                scale=(1 - cfg.scale, 1 + cfg.scale),
                rotate=0,
                fill=255,
                p=0.5,
            ),
            A.GaussianBlur(blur_limit=(3, 3), p=cfg.blur_p),
            A.RandomBrightnessContrast(0.15, 0.15, p=cfg.brightness_contrast_p),
            A.CoarseDropout(
                num_holes_range=(1, 3),
                hole_height_range=(0.05, 0.2),
                hole_width_range=(0.02, 0.08),
                fill=255,
                p=cfg.erase_p,
            ),
        ]
    )


def normalize_batch(batch: paddle.Tensor) -> paddle.Tensor:
    """uint8 grayscale (N, H, W), as the loaders send it, to float32 (N, 3, H, W) with
    ImageNet normalisation, on the tensor's device (12x less to move than floats); stacks
    of views (N, V, H, W) become (N, V, 3, H, W)."""
    x = batch.astype("float32").unsqueeze(-3) / 255.0
    mean = paddle.to_tensor(IMAGENET_MEAN).reshape([3, 1, 1])
    std = paddle.to_tensor(IMAGENET_STD).reshape([3, 1, 1])
    return (x - mean) / std


def prepare_inputs(inputs: list[paddle.Tensor]) -> list[paddle.Tensor]:
    """Normalise the uint8 image tensors of a batch; other inputs pass unchanged."""
    return [normalize_batch(x) if x.dtype == paddle.uint8 else x for x in inputs]


@dataclass(frozen=True)
class Split:
    """Record names of one train/validation split and their labels."""

    train: list[str]
    val: list[str]
    labels: dict


def check_processed(cfg: ExperimentConfig) -> None:
    """PNG training data must be rendered exactly as predict.py will render live records."""
    if cfg.data.source != "png":
        return
    settings_file = Path(cfg.data.processed) / "render.yaml"
    if not settings_file.is_file():
        raise BadInputError(settings_file, "missing: run process.py on the data first")
    settings = load_yaml(settings_file)
    if settings.get("render") != to_dict(cfg.render):
        raise BadInputError(
            settings_file,
            "images were rendered with other settings than this config's render section; "
            "rerun process.py with --config pointing at this experiment",
        )
    if cfg.data.stft and not settings.get("stft"):
        raise BadInputError(settings_file, "data.stft needs STFT images: rerun with --stft")


def load_split(cfg: ExperimentConfig, fold: int) -> Split:
    """Names for training and validation fold ``fold``, from ``folds.csv`` when the data
    were processed, else from the same stratified assignment computed here."""
    labels = read_labels(Path(cfg.data.root) / LABEL_FILE, cfg.data.task)
    folds_file = Path(cfg.data.processed or "") / "folds.csv"
    if cfg.data.processed and folds_file.is_file():
        folds = {n: f for n, f in read_folds(folds_file).items() if n in labels}
        if max(folds.values(), default=-1) + 1 != cfg.data.n_folds:
            raise BadInputError(
                folds_file,
                f"has {max(folds.values()) + 1} folds but data.n_folds is {cfg.data.n_folds}",
            )
    else:
        folds = assign_folds(labels, cfg.data.task, cfg.data.n_folds, cfg.data.split_seed)
    names = sorted(folds)
    if cfg.data.limit:
        names = names[: cfg.data.limit]
    train = [n for n in names if folds[n] != fold]
    val = [n for n in names if folds[n] == fold]
    if not train or not val:
        raise ValueError(f"fold {fold} leaves {len(train)} training and {len(val)} val records")
    return Split(train, val, labels)


def _augment_views(aug: A.Compose, plots: list[np.ndarray], seed: int) -> list[np.ndarray]:
    """The same augmentation draw (shift, crop, stains...) applied to every view."""
    out = []
    for plot in plots:
        aug.set_random_seed(seed)
        out.append(aug(image=plot)["image"])
    return out


def record_target(value, task: int) -> np.ndarray:
    """A record's training target: task 1 int64 class, task 2 float32 multi-hot."""
    if task == 1:
        return np.array(value, dtype=np.int64)
    return labels_to_multihot(value)


class ECGImageDataset(paddle.io.Dataset):
    """Plot image (+ STFT image) and target of each record.

    Images come from ``process.py``'s PNGs (``data.source: png``) or are rendered from the
    MAT record on the fly (``data.source: signal``, needed for signal augmentation). They
    leave as uint8 grayscale (H, W); :func:`prepare_inputs` normalises them on the device.
    Targets: task 1 int64 class, task 2 float32 multi-hot of the 12 classes.

    Augmentation is seeded per sample from (``train.seed``, epoch, index): every epoch
    draws new augmentations (call :meth:`set_epoch`), identical whatever the number of
    loader workers.
    """

    def __init__(
        self,
        cfg: ExperimentConfig,
        names: list[str],
        labels: dict | None,
        train: bool,
        record_dir: Path | None = None,
        image_split: str = "train",
    ):
        self.cfg = cfg
        self.names = list(names)
        self.labels = labels
        self.train = train
        self.record_dir = record_dir or Path(cfg.data.root) / "train"
        self.image_split = image_split
        self.image_aug = build_image_augment(cfg.image_aug) if train else None
        use_signal_aug = train and cfg.signal_aug.enabled
        self.signal_aug = build_signal_augment(cfg.signal_aug) if use_signal_aug else None
        self.as_print = AsPrint(cfg.print_aug.p, cfg.print_aug.layout, cfg.print_aug.errors)
        # which samples are shown as prints: "drawn" (print_aug.p of them, per epoch),
        # "all" or "none" (a cached trunk computes both and draws itself)
        self.prints = "drawn" if train and cfg.print_aug.p else "none"
        self.print_layout: str | None = None  # every print in this layout, not the drawn one
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Augmentations of the coming epoch (workers copy the dataset at each epoch)."""
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.names)

    def _png(self, kind: str, name: str) -> np.ndarray:
        path = Path(self.cfg.data.processed) / kind / self.image_split / f"{name}.png"
        img = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
        if img is None:
            raise BadInputError(path, "rendered image missing or unreadable (run process.py)")
        size = self.cfg.render.size
        if img.shape != (size, size):  # render.yaml matched: the file itself is foreign
            raise BadInputError(path, f"image is {img.shape}, expected ({size}, {size})")
        return img

    def images(
        self, name: str, rng: np.random.Generator | None = None, as_print: bool = False
    ) -> tuple[list[np.ndarray], np.ndarray | None]:
        """uint8 plot image of each rendering and STFT image (None unless
        ``data.stft``) of one record; ``rng`` drives the signal augmentation, ``as_print``
        renders only what a print shows (``print_aug.layout``)."""
        if self.cfg.data.source == "png":
            plot = self._png("images", name)
            stft = self._png("stft", name) if self.cfg.data.stft else None
            return [plot], stft
        signal = read_record(self.record_dir / f"{name}.mat").signal
        if self.signal_aug is not None:
            signal = self.signal_aug(signal, rng or np.random.default_rng())
        if as_print:
            signal = self.as_print.mask(signal, self._print_key(name), self.print_layout)
        return render_images(signal, self.cfg)

    def _print_key(self, name: str) -> tuple[int, int, int]:
        return (self.cfg.train.seed, self.epoch, zlib.crc32(name.encode()))

    def print_layout_of(self, index: int) -> str:
        """The layout of the print drawn for sample ``index`` this epoch."""
        return self.as_print.layout_of(self._print_key(self.names[index]))

    def shown_as_print(self, index: int) -> bool:
        """Whether sample ``index`` of the current epoch is shown as a print."""
        if self.prints == "drawn":
            return self.as_print.shown_as_print(self.cfg.train.seed, self.epoch, index)
        return self.prints == "all"

    def target(self, name: str) -> np.ndarray:
        return record_target(self.labels[name], self.cfg.data.task)

    def __getitem__(self, index: int):
        name = self.names[index]
        views = self.cfg.train.cache_augmented if self.cfg.train.cache_trunk else 0
        draw = self.epoch % views if views else self.epoch  # cached views repeat
        rng = np.random.default_rng([self.cfg.train.seed, draw, index])
        plots, stft = self.images(name, rng, self.shown_as_print(index))
        if self.image_aug is not None:
            plots = _augment_views(self.image_aug, plots, int(rng.integers(2**31)))
        inputs = [stack_views(plots, self.cfg)] + ([stft] if stft is not None else [])
        if self.labels is None:
            return (*inputs,)
        return (*inputs, self.target(name))

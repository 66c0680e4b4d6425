"""Frozen-trunk feature maps, computed once per image and kept on disk.

With ``freeze_stages: k`` the first k stages of the backbone never change in training,
and without augmentation their output for a record never changes either. Caching it
lets each epoch run only the trained stages: on a 2-core CPU, training layer4 on cached
layer3 maps is several times faster than running the whole ResNet50 each step, and the
same maps serve every fold and both tasks (the key holds everything they depend on).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import paddle
from tqdm import tqdm

from .atomic import atomic_path
from .data import normalize_batch
from .experiment import ExperimentConfig
from .prints import print_layouts
from .trunk_graph import trunk_runner

log = logging.getLogger(__name__)


def cache_key(cfg: ExperimentConfig, stride_in_1x1: bool) -> str:
    """Hash of the network a trunk map depends on: backbone, pretrained weights and the
    frozen stages (the image itself is each map's own key)."""
    parts = {
        "arch": cfg.model.arch,
        "pretrained": cfg.model.pretrained,
        "stride_in_1x1": stride_in_1x1,
        "freeze_stages": cfg.model.freeze_stages,
    }
    return hashlib.sha1(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:16]


@paddle.no_grad()
def trunk_maps(model, dataset, cfg: ExperimentConfig, batch_size: int = 16) -> np.ndarray:
    """Trunk output (float16, (n, C, h, w)) of every image of ``dataset``, read from /
    added to ``train.cache_dir`` when it is set (one ``.npy`` per image). Maps are keyed
    by a hash of the image itself, so a record's map is computed once whatever the split
    or task, and a changed record or rendering is never served a stale map. With
    ``views`` each rendering is its own image, and a record's maps are its views' maps
    stacked on channels: a rendering shared by several experiments is computed once."""
    folder = None
    if cfg.train.cache_dir:
        folder = Path(cfg.train.cache_dir) / f"trunk-{cache_key(cfg, model.stride_in_1x1)}"
        folder.mkdir(parents=True, exist_ok=True)
    records = [dataset[i][0] for i in tqdm(range(len(dataset)), desc="render", disable=None)]
    images = [view for img in records for view in (img if img.ndim == 3 else [img])]
    keys = [hashlib.sha1(img.tobytes() + str(img.shape).encode()).hexdigest() for img in images]
    maps: dict[str, np.ndarray] = {}
    for key in keys:
        if folder is not None and (folder / f"{key}.npy").is_file():
            maps[key] = np.load(folder / f"{key}.npy")
    todo = sorted({k: i for i, k in enumerate(keys) if k not in maps}.values())
    if todo:
        model.eval()
        run = trunk_runner(model, cfg.train.trunk_backend, cfg.train.cpu_threads)
        bar = tqdm(total=len(todo), desc="trunk maps", disable=None)
        for start in range(0, len(todo), batch_size):
            idx = todo[start : start + batch_size]
            batch = normalize_batch(paddle.to_tensor(np.stack([images[i] for i in idx])))
            for i, m in zip(idx, run(batch.numpy()).astype(np.float16)):
                maps[keys[i]] = m
                if folder is not None:
                    with atomic_path(folder / f"{keys[i]}.npy") as tmp:
                        np.save(tmp, m)
            bar.update(len(idx))
        bar.close()
    log.info("trunk maps: computed %d, reused %d", len(todo), len(keys) - len(todo))
    per_record = len(images) // len(records)
    stacked = [maps[k] for k in keys]
    return np.stack(
        [np.concatenate(stacked[i : i + per_record]) for i in range(0, len(keys), per_record)]
    )


def augmented_maps(model, dataset, cfg: ExperimentConfig) -> list[np.ndarray]:
    """Trunk maps of each cached copy: the augmented copies 0..``train.cache_augmented``-1
    of a training set that augments, else the one fixed rendering."""
    if not (dataset.train and cfg.train.cache_augmented):
        return [trunk_maps(model, dataset, cfg)]
    maps = []
    for copy in range(cfg.train.cache_augmented):
        dataset.set_epoch(copy)
        maps.append(trunk_maps(model, dataset, cfg))
    return maps


def cached_dataset(model, dataset, cfg: ExperimentConfig) -> CachedTrunkDataset:
    """``dataset`` through the cached trunk: its copies' maps and, for print-aware
    training (``print_aug.p``), the maps of every record shown as a print in each of
    ``print_aug.layout`` (each epoch then draws a record's layout as live training does)."""
    if dataset.prints != "drawn":
        return CachedTrunkDataset(augmented_maps(model, dataset, cfg), dataset)
    with _showing_prints(dataset, "none"):
        copies = augmented_maps(model, dataset, cfg)
    prints = {}
    for layout in dict.fromkeys(print_layouts(cfg.print_aug.layout)):
        with _showing_prints(dataset, "all", layout):
            dataset.set_epoch(0)
            prints[layout] = trunk_maps(model, dataset, cfg)
    return CachedTrunkDataset(copies, dataset, prints)


@contextmanager
def _showing_prints(dataset, mode: str, layout: str | None = None) -> Iterator[None]:
    """The image dataset showing its records as prints in ``mode`` ("none", "all"), in
    ``layout`` when given, while its maps are computed, then as before."""
    before = dataset.prints, dataset.print_layout
    dataset.prints, dataset.print_layout = mode, layout
    try:
        yield
    finally:
        dataset.prints, dataset.print_layout = before


class CachedTrunkDataset(paddle.io.Dataset):
    """(trunk map as float32, target) of each record, over precomputed maps; with several
    cached augmented copies epoch e serves copy e mod their number; with ``prints`` (the
    maps of the records shown as prints, by layout) each epoch serves ``print_aug.p`` of
    the records as prints, in the layout drawn, as the image dataset draws them."""

    def __init__(
        self,
        maps: list[np.ndarray],
        image_dataset,
        prints: dict[str, np.ndarray] | None = None,
    ):
        self.copies = maps
        self.maps = maps[0]
        self.images = image_dataset
        self.prints = prints

    def set_epoch(self, epoch: int) -> None:
        self.maps = self.copies[epoch % len(self.copies)]
        self.images.set_epoch(epoch)  # its draw of the records shown as prints

    def __len__(self) -> int:
        return len(self.maps)

    def __getitem__(self, index: int):
        maps = self.maps
        if self.prints is not None and self.images.shown_as_print(index):
            maps = self.prints[self.images.print_layout_of(index)]
        x = maps[index].astype(np.float32)
        if self.images.labels is None:
            return (x,)
        return x, self.images.target(self.images.names[index])

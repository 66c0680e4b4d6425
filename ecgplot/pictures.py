"""Picture files of paper ECGs: finding them in a folder, reading them, turning them."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from .aiwin import BadInputError

PICTURE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp")


def list_pictures(folder: str | Path) -> list[Path]:
    """Picture files of a folder (PNG, JPEG, TIFF, BMP), sorted; hidden files skipped."""
    folder = Path(folder)
    if not folder.is_dir():
        raise BadInputError(folder, "is not a folder of pictures")
    found = sorted(
        p
        for p in folder.iterdir()
        if p.is_file() and p.suffix.lower() in PICTURE_SUFFIXES and not p.name.startswith(".")
    )
    if not found:
        raise BadInputError(folder, f"no pictures here ({', '.join(PICTURE_SUFFIXES)})")
    return found


def read_picture(path: str | Path) -> np.ndarray:
    """RGB uint8 (H, W, 3) of a picture file; unreadable files are bad input."""
    path = Path(path)
    if not path.is_file():
        raise BadInputError(path, "file not found")
    data = np.fromfile(path, np.uint8)
    img = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    if img is None:
        raise BadInputError(path, "not a readable image (PNG, JPEG, TIFF or BMP)")
    if min(img.shape[:2]) < 64:
        raise BadInputError(path, f"image is {img.shape[1]}x{img.shape[0]}: too small")
    return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)


def rotate(img: np.ndarray, degrees: float, fill: int | tuple = 255) -> np.ndarray:
    """``img`` rotated by ``degrees`` (counter-clockwise positive) about its centre, same
    size, revealed corners filled with ``fill``."""
    h, w = img.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    return cv2.warpAffine(img, m, (w, h), flags=cv2.INTER_LINEAR, borderValue=fill)

"""Pictures of paper ECGs (scans, photos, exported images) to the model's plot input.

A picture is brought to what the model was trained on in four steps: deskew (the
dominant angle of the long straight lines, grid or baseline, found by a Hough
transform), ink extraction (the brightest channel keeps the dark trace and drops coloured
grids; light grey grids are pushed to white), crop to the area the trace covers, and
resize to the model's square input. :func:`picture_to_plot` runs them all; training with
paper styles runs the same function on every augmented render, so the model sees
pictures and renders the same way.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from .aiwin import BadInputError

PICTURE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp")
MAX_SKEW_DEG = 20.0  # lines steeper than this are not taken for the grid or baseline
WHITE_LEVEL = 0.8  # brightness relative to the paper above which a pixel is paper/grid
BLACK_PERCENTILE = 0.5  # the darkest half percent of a picture is taken as full ink
MIN_INK, MAX_INK = 0.003, 0.35  # fraction of ink pixels an ECG plot has
CROP_MARGIN = 0.01  # fraction of the image kept around the trace's bounding box


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


def ink(rgb: np.ndarray) -> np.ndarray:
    """uint8 grayscale with the trace dark and paper and grid white: each channel divided
    by the local paper brightness in it (shadows and tinted light go), then the brightest
    of them (a red, blue or green grid line is bright in its own colour's channel, black
    ink in none; blue pen goes too), stretched so that the darkest ink is black and
    levels above ``WHITE_LEVEL`` (paper, light grid) white."""
    img = rgb.astype(np.float32)
    # each channel's paper brightness, shadows and tinted light included: thin dark
    # strokes closed away (dilate, erode: a shadow's edge stays where it is), smoothed
    k = max(3, min(img.shape[:2]) // 40) | 1
    kernel = np.ones((k, k), np.uint8)
    paper = cv2.blur(cv2.morphologyEx(img, cv2.MORPH_CLOSE, kernel), (3, 3))
    level = img / np.maximum(paper, 1.0)
    if level.ndim == 3:
        level = level.max(axis=2)
    # contrast: the darkest ink (a blurred photo's is grey) to black, WHITE_LEVEL up white
    black = min(float(np.percentile(level, BLACK_PERCENTILE)), WHITE_LEVEL / 2)
    return np.clip((level - black) * (255.0 / (WHITE_LEVEL - black)), 0, 255).astype(np.uint8)


def skew_angle(gray: np.ndarray) -> float:
    """Degrees the picture is rotated counter-clockwise: the length-weighted median angle
    of the long, near-horizontal line segments (grid lines, baselines) found by a
    probabilistic Hough transform on the edges; 0 when there are none."""
    h, w = gray.shape
    edges = cv2.Canny(gray, 50, 150)
    lines = cv2.HoughLinesP(
        edges, 1, np.pi / 720, threshold=80, minLineLength=w // 6, maxLineGap=max(4, w // 100)
    )
    if lines is None:
        return 0.0
    x0, y0, x1, y1 = lines.reshape(-1, 4).T.astype(np.float64)
    angles = np.degrees(np.arctan2(-(y1 - y0), x1 - x0))
    angles = (angles + 90) % 180 - 90  # direction-free: -90..90
    lengths = np.hypot(x1 - x0, y1 - y0)
    keep = np.abs(angles) <= MAX_SKEW_DEG
    if not keep.any():
        return 0.0
    order = np.argsort(angles[keep])
    cum = np.cumsum(lengths[keep][order])
    return float(angles[keep][order][np.searchsorted(cum, cum[-1] / 2)])


def rotate(img: np.ndarray, degrees: float, fill: int | tuple = 255) -> np.ndarray:
    """``img`` rotated by ``degrees`` (counter-clockwise positive) about its centre, same
    size, revealed corners filled with ``fill``."""
    h, w = img.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    return cv2.warpAffine(img, m, (w, h), flags=cv2.INTER_LINEAR, borderValue=fill)


def deskew(rgb: np.ndarray) -> tuple[np.ndarray, float]:
    """The picture rotated upright, and the angle (degrees) it was corrected by."""
    angle = skew_angle(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY) if rgb.ndim == 3 else rgb)
    if abs(angle) < 0.05:
        return rgb, 0.0
    fill = (255, 255, 255) if rgb.ndim == 3 else 255
    return rotate(rgb, -angle, fill), angle


def crop_to_trace(gray: np.ndarray, source: str | Path | None = "picture") -> np.ndarray:
    """The part of an ink image (:func:`ink`) that holds the trace: the 0.2-99.8
    percentile box of its ink pixels plus a small margin. A picture (``source`` names
    it) with too little or too much ink to be an ECG plot is bad input; our own renders
    (``source`` None) are not checked."""
    mask = gray < 128
    fraction = float(mask.mean())
    if source is not None and not MIN_INK <= fraction <= MAX_INK:
        raise BadInputError(
            source,
            f"does not look like an ECG plot: {fraction:.1%} of it is dark ink "
            f"(expected {MIN_INK:.1%}-{MAX_INK:.0%})",
        )
    if not mask.any():
        return gray
    ys, xs = np.nonzero(mask)
    h, w = gray.shape
    my, mx = int(CROP_MARGIN * h), int(CROP_MARGIN * w)
    y0, y1 = np.percentile(ys, [0.2, 99.8]).astype(int)
    x0, x1 = np.percentile(xs, [0.2, 99.8]).astype(int)
    y0, y1 = max(0, y0 - my), min(h, y1 + my + 1)
    x0, x1 = max(0, x0 - mx), min(w, x1 + mx + 1)
    return gray[y0:y1, x0:x1]


def picture_to_plot(
    rgb: np.ndarray, size: int, source: str | Path | None = "picture"
) -> np.ndarray:
    """A picture (RGB or grayscale) as the model's uint8 (size, size) plot input:
    deskewed, grid removed, cropped to the trace, resized (``source``: see
    :func:`crop_to_trace`)."""
    upright, _ = deskew(rgb)
    cropped = crop_to_trace(ink(upright), source)
    return cv2.resize(cropped, (size, size), interpolation=cv2.INTER_AREA)

"""Scan and phone-photo augmentation of paper-style ECG renders (RGB), on the fly.

albumentations does the geometry (rotation, perspective, crop/pad), optics (blur, JPEG,
noise), light (brightness, shadows) and colour temperature (Planckian jitter); the
paper's own wear has no albumentations transform, so three small ones are here:
creases (folds across the sheet), stains, and scribbles or handwriting over the trace.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Annotated, Any

import albumentations as A
import cv2
import numpy as np
from pydantic import Field

from .atomic import atomic_write_bytes
from .config import section
from .render import RenderConfig, render_plot

Probability = Annotated[float, Field(ge=0, le=1)]
PAPER_WHITE = (250, 248, 244)  # what rotation and padding reveal around the sheet


@section
class PhotoAugConfig:
    """Pictures of paper ECGs: each transform's probability and strength."""

    enabled: bool = False
    rotate_deg: Annotated[float, Field(ge=0, le=45)] = 4.0  # +- rotation
    rotate_p: Probability = 0.7
    perspective: Annotated[float, Field(ge=0, le=0.3)] = 0.05  # corner shift, fraction
    perspective_p: Probability = 0.5
    crop_pad: Annotated[float, Field(ge=0, le=0.3)] = 0.04  # +- fraction cropped / padded
    crop_pad_p: Probability = 0.5
    blur_p: Probability = 0.3
    jpeg_quality: tuple[int, int] = (35, 90)
    jpeg_p: Probability = 0.5
    noise_p: Probability = 0.3
    temperature_p: Probability = 0.4  # colour temperature of the light (Planckian)
    brightness_p: Probability = 0.5
    shadow_p: Probability = 0.3
    crease_p: Probability = 0.3
    stain_p: Probability = 0.2
    scribble_p: Probability = 0.2

    def __post_init__(self) -> None:
        lo, hi = self.jpeg_quality
        if not 1 <= lo <= hi <= 100:
            raise ValueError(f"jpeg_quality must be 1 <= low <= high <= 100, got {lo}, {hi}")


class Creases(A.ImageOnlyTransform):
    """Fold lines across the sheet: a thin dark ridge beside a light band."""

    def __init__(self, max_creases: int = 2, p: float = 0.5):
        super().__init__(p=p)
        self.max_creases = max_creases

    def get_params_dependent_on_data(self, params: dict, data: dict) -> dict[str, Any]:
        h, w = params["shape"][:2]
        lines = []
        for _ in range(self.py_random.randint(1, self.max_creases)):
            if self.py_random.random() < 0.5:  # mostly straight folds, across or down
                x = self.py_random.uniform(0.15, 0.85) * w
                lines.append((x, 0.0, x + self.py_random.uniform(-0.05, 0.05) * w, float(h)))
            else:
                y = self.py_random.uniform(0.15, 0.85) * h
                lines.append((0.0, y, float(w), y + self.py_random.uniform(-0.05, 0.05) * h))
        return {"lines": lines, "depth": self.py_random.uniform(0.08, 0.25)}

    def apply(self, img: np.ndarray, lines: list, depth: float, **params) -> np.ndarray:
        h, w = img.shape[:2]
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        shade = np.zeros((h, w), np.float32)
        width = max(2.0, 0.01 * max(h, w))
        for x0, y0, x1, y1 in lines:
            nx, ny = y1 - y0, x0 - x1  # normal of the fold line
            dist = ((xx - x0) * nx + (yy - y0) * ny) / np.hypot(nx, ny)
            shade += -np.exp(-((dist / (0.3 * width)) ** 2)) + 0.5 * np.exp(
                -(((dist - width) / width) ** 2)
            )
        out = img.astype(np.float32) * (1 + depth * shade)[..., None]
        return np.clip(out, 0, 255).astype(np.uint8)


class Stains(A.ImageOnlyTransform):
    """Soft brownish blots (coffee, water) blended multiplicatively into the paper."""

    def __init__(self, max_stains: int = 2, p: float = 0.5):
        super().__init__(p=p)
        self.max_stains = max_stains

    def get_params_dependent_on_data(self, params: dict, data: dict) -> dict[str, Any]:
        h, w = params["shape"][:2]
        stains = [
            (
                self.py_random.uniform(0, w),
                self.py_random.uniform(0, h),
                self.py_random.uniform(0.04, 0.15) * max(h, w),
                self.py_random.uniform(0.15, 0.45),
            )
            for _ in range(self.py_random.randint(1, self.max_stains))
        ]
        return {"stains": stains}

    def apply(self, img: np.ndarray, stains: list, **params) -> np.ndarray:
        h, w = img.shape[:2]
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        tint = np.array([0.75, 0.6, 0.4], np.float32)  # brown: keeps red, takes blue
        out = img.astype(np.float32)
        for cx, cy, r, strength in stains:
            blot = strength * np.exp(-((((xx - cx) ** 2 + (yy - cy) ** 2) / (r * r)) ** 2))
            out *= 1 - blot[..., None] * (1 - tint)
        return np.clip(out, 0, 255).astype(np.uint8)


class Scribbles(A.ImageOnlyTransform):
    """Pen strokes and handwritten-looking text over the trace, in blue or black ink."""

    def __init__(self, max_strokes: int = 3, p: float = 0.5):
        super().__init__(p=p)
        self.max_strokes = max_strokes

    def get_params_dependent_on_data(self, params: dict, data: dict) -> dict[str, Any]:
        h, w = params["shape"][:2]
        strokes = []
        for _ in range(self.py_random.randint(1, self.max_strokes)):
            x, y = self.py_random.uniform(0, w), self.py_random.uniform(0, h)
            pts = [(x, y)]
            for _ in range(self.py_random.randint(3, 8)):
                x += self.py_random.uniform(-0.08, 0.08) * w
                y += self.py_random.uniform(-0.05, 0.05) * h
                pts.append((x, y))
            strokes.append(np.array(pts, np.int32))
        text = "".join(self.py_random.choice("ABCDEFGHKLMNPRSTVX0123456789 /:") for _ in range(8))
        ink = self.py_random.choice([(30, 40, 150), (20, 20, 20)])
        org = (int(self.py_random.uniform(0, 0.6) * w), int(self.py_random.uniform(0.1, 1) * h))
        return {"strokes": strokes, "text": text, "ink": ink, "org": org}

    def apply(self, img, strokes: list, text: str, ink: tuple, org: tuple, **params):
        out = img.copy()
        thickness = max(1, round(out.shape[0] / 320))
        cv2.polylines(out, strokes, False, ink, thickness, cv2.LINE_AA)
        scale = out.shape[0] / 500
        font = cv2.FONT_HERSHEY_SCRIPT_SIMPLEX
        cv2.putText(out, text, org, font, scale, ink, thickness, cv2.LINE_AA)
        return out


def build_photo_augment(cfg: PhotoAugConfig) -> A.Compose | None:
    """The scan/photo pipeline for RGB renders (None when disabled): paper wear first,
    then the camera's view of the sheet, then light and the camera's optics."""
    if not cfg.enabled:
        return None
    fill = PAPER_WHITE
    return A.Compose(
        [
            Stains(p=cfg.stain_p),
            Creases(p=cfg.crease_p),
            Scribbles(p=cfg.scribble_p),
            A.Affine(rotate=(-cfg.rotate_deg, cfg.rotate_deg), fill=fill, p=cfg.rotate_p),
            A.Perspective(scale=(0.0, cfg.perspective), fill=fill, p=cfg.perspective_p),
            A.CropAndPad(
                percent=(-cfg.crop_pad, cfg.crop_pad), fill=fill, keep_size=True, p=cfg.crop_pad_p
            ),
            A.PlanckianJitter(mode="blackbody", p=cfg.temperature_p),
            A.RandomBrightnessContrast(0.25, 0.25, p=cfg.brightness_p),
            A.RandomShadow(shadow_roi=(0, 0, 1, 1), num_shadows_limit=(1, 2), p=cfg.shadow_p),
            A.OneOf(
                [A.GaussianBlur(blur_limit=(3, 5)), A.MotionBlur(blur_limit=(3, 7))], p=cfg.blur_p
            ),
            A.GaussNoise(std_range=(0.01, 0.05), p=cfg.noise_p),
            A.ImageCompression(quality_range=cfg.jpeg_quality, p=cfg.jpeg_p),
        ]
    )


# Test pictures (benchmarks/robustness.py), with settings held out
# from training: not the red paper, +-4 degrees, perspective up to 0.05, JPEG 35-90 that
# the paper configs train with
PHONE = PhotoAugConfig(
    enabled=True,
    rotate_deg=8.0,
    rotate_p=1.0,
    perspective=0.08,
    perspective_p=1.0,
    crop_pad=0.03,
    jpeg_quality=(25, 50),
    jpeg_p=1.0,
    blur_p=0.7,
    noise_p=0.5,
    temperature_p=1.0,
    brightness_p=1.0,
    shadow_p=1.0,
    crease_p=0.5,
    stain_p=0.0,
    scribble_p=0.0,
)


def picture_styles(size: int) -> dict[str, tuple[RenderConfig, A.Compose | None]]:
    """Render settings and picture transform of each test picture style: clean render,
    colour scan (pink paper), black-and-white scan, phone photo (blue paper, ``PHONE``)."""
    base = RenderConfig(size=size, mm_per_mv=10.0)
    paper = dataclasses.replace(base, color=True, grid=True, calibration=True, lead_labels=True)
    scan = A.Compose(
        [
            A.Affine(rotate=(-1.5, 1.5), fill=(255, 255, 255), p=1.0),
            A.GaussianBlur(blur_limit=(3, 3), p=0.5),
            A.ImageCompression(quality_range=(75, 95), p=1.0),
        ]
    )
    bw = A.Compose(
        [
            A.Affine(rotate=(-1.5, 1.5), fill=(255, 255, 255), p=1.0),
            A.Lambda(image=_binarize),
            A.SaltAndPepper(amount=(0.001, 0.004), p=1.0),
        ]
    )
    return {
        "clean": (base, None),
        "colour scan": (dataclasses.replace(paper, paper="pink"), scan),
        "b/w scan": (dataclasses.replace(paper, paper="gray"), bw),
        "phone photo": (dataclasses.replace(paper, paper="blue"), build_photo_augment(PHONE)),
    }


def _binarize(img: np.ndarray, **_) -> np.ndarray:
    """A black-and-white scanner: ink black, paper and light grid white."""
    gray = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY) if img.ndim == 3 else img
    bw = np.where(gray < 150, 0, 255).astype(np.uint8)
    return cv2.cvtColor(bw, cv2.COLOR_GRAY2RGB)


def make_picture(signal: np.ndarray, style: str, size: int, seed: int) -> np.ndarray:
    """RGB picture (size, size, 3) of a record's signal in a :func:`picture_styles` style,
    its random draw fixed by ``seed``."""
    if style not in picture_styles(size):
        raise ValueError(
            f"unknown picture style {style!r}; choose from {list(picture_styles(size))}"
        )
    render, transform = picture_styles(size)[style]
    img = render_plot(signal, render)
    if img.ndim == 2:
        img = cv2.cvtColor(img, cv2.COLOR_GRAY2RGB)
    if transform is not None:
        transform.set_random_seed(seed)
        img = transform(image=img)["image"]
    return img


def write_picture(path: Path, signal: np.ndarray, style: str, size: int, seed: int) -> None:
    """:func:`make_picture` saved as an image file (JPEG quality 90 for .jpg), written to
    a temporary file and renamed."""
    img = cv2.cvtColor(make_picture(signal, style, size, seed), cv2.COLOR_RGB2BGR)
    ok, buf = cv2.imencode(path.suffix, img, [cv2.IMWRITE_JPEG_QUALITY, 90])
    if not ok:
        raise ValueError(f"cannot encode a picture as {path.suffix!r}")
    atomic_write_bytes(path, buf.tobytes())

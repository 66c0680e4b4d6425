"""Rectify a picture of a print: the paper's four edges to a rectangle (perspective of a
phone photo), or without edges in view the grid's own lines squared, then the residual
rotation from the grid lines and baselines."""

from __future__ import annotations

import cv2
import numpy as np

from .perspective import framed, grid_homography, line_darkness, scaled, turn_degrees

MAX_ROTATION_DEG = 8.0  # searched either way after the paper is squared
WORK_PX = 1000  # long side the search images are scaled to
MIN_PAPER_AREA = 0.25  # share of the picture a detected sheet must cover
BACKGROUND_LEVEL = 0.75  # border brighter than this share of the paper: no table in view


def order_corners(pts: np.ndarray) -> np.ndarray:
    """Four points as top-left, top-right, bottom-right, bottom-left."""
    pts = np.asarray(pts, np.float32).reshape(4, 2)
    s, d = pts.sum(axis=1), np.diff(pts, axis=1).ravel()
    return np.float32([pts[s.argmin()], pts[d.argmin()], pts[s.argmax()], pts[d.argmax()]])


def find_paper(rgb: np.ndarray) -> np.ndarray | None:
    """Corners (top-left first, clockwise) of the sheet of paper when its four edges are
    in the picture (a photo on a table), else None (a scan, or a sheet that fills it)."""
    gray, scale = scaled(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), WORK_PX)
    blur = cv2.GaussianBlur(gray, (5, 5), 0)
    # a sheet with its edges in view lies on something darker: the picture's border
    border = np.concatenate(
        [blur[:4].ravel(), blur[-4:].ravel(), blur[:, :4].ravel(), blur[:, -4:].ravel()]
    )
    if np.median(border) > BACKGROUND_LEVEL * np.percentile(blur, 90):
        return None
    _, bright = cv2.threshold(blur, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    bright = cv2.morphologyEx(bright, cv2.MORPH_CLOSE, np.ones((15, 15), np.uint8))
    contours, _ = cv2.findContours(bright, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        return None
    sheet = max(contours, key=cv2.contourArea)
    area = cv2.contourArea(sheet) / gray.size
    if not MIN_PAPER_AREA <= area <= 0.97:
        return None
    hull = cv2.convexHull(sheet)
    for eps in (0.01, 0.02, 0.03, 0.05):
        quad = cv2.approxPolyDP(hull, eps * cv2.arcLength(hull, True), True)
        if len(quad) == 4:
            corners = order_corners(quad) / scale
            # a quadrilateral touching the picture's border is a crop, not the sheet's edge
            h, w = rgb.shape[:2]
            margin = 0.005 * max(h, w)
            inside = (corners[:, 0] > margin) & (corners[:, 0] < w - 1 - margin)
            inside &= (corners[:, 1] > margin) & (corners[:, 1] < h - 1 - margin)
            return corners if inside.sum() >= 3 else None
    return None


def paper_transform(corners: np.ndarray) -> tuple[np.ndarray, tuple[int, int]]:
    """The homography taking the sheet inside ``corners`` onto an upright rectangle, and
    that rectangle's (width, height)."""
    tl, tr, br, bl = corners
    w = int(round(max(np.linalg.norm(tr - tl), np.linalg.norm(br - bl))))
    h = int(round(max(np.linalg.norm(bl - tl), np.linalg.norm(br - tr))))
    dst = np.float32([[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1]])
    return cv2.getPerspectiveTransform(np.float32(corners), dst), (w, h)


def warp(rgb: np.ndarray, matrix: np.ndarray, size: tuple[int, int], sharp: bool) -> np.ndarray:
    """``rgb`` through the homography ``matrix`` into a white (width, height) canvas;
    ``sharp`` resamples bicubically (the final picture: a thin pen keeps its darkness),
    else bilinearly (a picture only measured)."""
    flags = cv2.INTER_CUBIC if sharp else cv2.INTER_LINEAR
    return cv2.warpPerspective(rgb, matrix, size, flags=flags, borderValue=(255, 255, 255))


def _line_energy(dark: np.ndarray, degrees: float) -> float:
    h, w = dark.shape
    m = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    turned = cv2.warpAffine(dark, m, (w, h), flags=cv2.INTER_LINEAR)
    rows = turned.sum(axis=1, dtype=np.float64)
    cols = turned.sum(axis=0, dtype=np.float64)
    return float(np.square(np.diff(rows)).sum() + np.square(np.diff(cols)).sum())


def rotation_angle(rgb: np.ndarray) -> float:
    """Degrees the print is turned counter-clockwise in the picture: the angle that makes
    the darkness profiles along rows and columns sharpest (grid lines and baselines lined
    up with the pixel grid), coarse to fine."""
    gray, _ = scaled(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), WORK_PX)
    dark = line_darkness(gray, 31)
    best = 0.0
    for step, half in ((0.5, MAX_ROTATION_DEG), (0.1, 0.5), (0.02, 0.1)):
        angles = best + np.arange(-half, half + step / 2, step)
        energies = [_line_energy(dark, -a) for a in angles]
        best = float(angles[int(np.argmax(energies))])
    return best


def rectify(rgb: np.ndarray) -> tuple[np.ndarray, float, bool]:
    """The print upright: (image, rotation corrected in degrees, whether the paper's
    edges were found and squared). The perspective and the residual rotation are composed
    and the picture resampled once: every resampling fades a thin pen's strokes."""
    corners = find_paper(rgb)
    turned, squared = 0.0, False
    matrix, size = np.eye(3), (rgb.shape[1], rgb.shape[0])
    if corners is not None:
        (matrix, size), squared = paper_transform(corners), True
    else:  # a scan, or a close-up photo: the grid's own lines tell the perspective
        homography = grid_homography(rgb)
        if homography is not None:
            turned = turn_degrees(homography, rgb.shape[:2])
            (matrix, size), squared = framed(homography, rgb.shape[:2]), True
    angle = rotation_angle(warp(rgb, matrix, size, sharp=False) if squared else rgb)
    if abs(angle) >= 0.02:
        spin = cv2.getRotationMatrix2D((size[0] / 2, size[1] / 2), -angle, 1.0)
        matrix = np.vstack([spin, [0, 0, 1]]) @ matrix
    elif not squared:
        return rgb, angle, False
    return warp(rgb, matrix, size, sharp=True), turned + angle, corners is not None

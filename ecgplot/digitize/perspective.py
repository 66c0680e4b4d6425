"""Perspective from the grid itself, for a photo whose sheet fills the frame (no paper
edge to square): in tiles across the picture, the directions of the grid's horizontal
and vertical lines; each family's lines meet in a vanishing point, and the homography
that sends both points to infinity makes the lines parallel and square again."""

from __future__ import annotations

import cv2
import numpy as np

from .grid import separate

TILES = (3, 4)  # down, across: large tiles, many lines each, sharp directions
WORK_PX = 2000  # long side the direction search runs at (1 mm lines stay apart)
MAX_TURN_DEG = 10.0  # line directions searched either way of the picture's axes
MIN_SHARPNESS = 1.5  # a tile's best direction must beat the tile's typical one this much
MIN_TILES = 8  # tiles with a clear direction needed in each family
MIN_PERSPECTIVE = 0.004  # lines converging less than this (corner shift) are parallel
MIN_WARP = 0.002  # corner movement (share of the long side) worth a warp
MAX_WARP = 0.15  # more than this is not a perspective the grid could have told


def scaled(image: np.ndarray, long_side: int) -> tuple[np.ndarray, float]:
    """``image`` (grey or colour) shrunk to ``long_side`` pixels along its long side
    (never enlarged), and the factor."""
    scale = long_side / max(image.shape[:2])
    if scale >= 1:
        return image, 1.0
    return cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA), scale


def line_darkness(gray: np.ndarray, window: int) -> np.ndarray:
    """Darkness above its local mean over ``window`` pixels: lines, not shading."""
    dark = (255 - np.asarray(gray, np.float32)).astype(np.float32)
    dark -= cv2.blur(dark, (window, window))
    return np.maximum(dark, 0)


def _sharpness(ys: np.ndarray, xs: np.ndarray, w: np.ndarray, theta: float) -> float:
    """How sharply ``w``'s pixels line up along direction ``theta`` (radians, image axes):
    the energy of the change of their profile across that direction."""
    s = ys * np.cos(theta) - xs * np.sin(theta)
    s = np.round(s - s.min()).astype(np.int64)
    profile = np.bincount(s, weights=w)
    return float(np.square(np.diff(profile)).sum())


def tile_direction(tile: np.ndarray, base: float) -> float | None:
    """Direction (radians) of the lines of ``tile`` near ``base`` (0: across, pi/2: down),
    coarse to fine; None when no direction stands out (no grid in the tile)."""
    ys, xs = np.nonzero(tile > 0)
    if len(ys) < 50:
        return None
    w = tile[ys, xs].astype(np.float64)
    ys, xs = ys.astype(np.float64), xs.astype(np.float64)
    best, scores = base, []
    for step, half in ((1.0, MAX_TURN_DEG), (0.2, 1.0), (0.04, 0.2)):
        angles = best + np.radians(np.arange(-half, half + step / 2, step))
        values = [_sharpness(ys, xs, w, a) for a in angles]
        if not scores:
            scores = values
        best = float(angles[int(np.argmax(values))])
    return best if max(scores) > MIN_SHARPNESS * float(np.median(scores)) else None


def _vanishing_point(lines: list[np.ndarray]) -> np.ndarray:
    """The homogeneous point nearest all ``lines`` (least squares, SVD)."""
    a = np.array(lines)
    a /= np.linalg.norm(a[:, :2], axis=1, keepdims=True)
    return np.linalg.svd(a)[2][-1]


def grid_homography(rgb: np.ndarray) -> np.ndarray | None:
    """3x3 homography (picture pixels to rectified pixels) that squares the grid, or None
    when the grid's lines are already parallel and square, or cannot be told."""
    small, scale = scaled(rgb, WORK_PX)
    # the grid's lines only: the trace's strokes (a 12x1 print's QRS complexes stand in
    # columns, its baselines wander) would pull the directions off
    dark = line_darkness(255.0 * (1.0 - separate(small).grid), 15)
    h, w = dark.shape
    families: tuple[list[np.ndarray], list[np.ndarray]] = ([], [])
    cx, cy, norm = w / 2, h / 2, max(w, h)
    for i in range(TILES[0]):
        for j in range(TILES[1]):
            y0, y1 = i * h // TILES[0], (i + 1) * h // TILES[0]
            x0, x1 = j * w // TILES[1], (j + 1) * w // TILES[1]
            tile = dark[y0:y1, x0:x1]
            for family, base in zip(families, (0.0, np.pi / 2)):
                theta = tile_direction(tile, base)
                if theta is None:
                    continue
                # the line through the tile's centre (normalised coordinates)
                px, py = ((x0 + x1) / 2 - cx) / norm, ((y0 + y1) / 2 - cy) / norm
                dx, dy = np.cos(theta), np.sin(theta)
                family.append(np.array([dy, -dx, dx * py - dy * px]))
    if min(len(f) for f in families) < MIN_TILES:
        return None
    vx, vy = (_vanishing_point(f) for f in families)
    # the rectified x and y axes seen in the picture: a unit step from the centre towards
    # each vanishing point (a point at infinity is a plain direction)
    axes = [_unit_towards(vx, 0), _unit_towards(vy, 1)]
    inverse = np.column_stack([axes[0], axes[1], [0.0, 0.0, 1.0]])
    if _perspective_share(np.linalg.inv(inverse), (h / norm, w / norm)) < MIN_PERSPECTIVE:
        return None  # lines parallel: a scan, its turn is the rotation search's job
    to_norm = np.array([[1 / norm, 0, -cx / norm], [0, 1 / norm, -cy / norm], [0, 0, 1]])
    from_norm = np.linalg.inv(to_norm)
    down = np.diag([scale, scale, 1.0])
    homography = np.linalg.inv(down) @ from_norm @ np.linalg.inv(inverse) @ to_norm @ down
    return _checked(homography, rgb.shape[:2])


def _unit_towards(v: np.ndarray, axis: int) -> np.ndarray:
    """Vanishing point ``v`` (homogeneous, centre at the origin) scaled so that its
    direction from the centre is a unit vector pointing along +``axis``."""
    c = v / np.linalg.norm(v[:2])
    return -c if c[axis] < 0 else c


def _perspective_share(homography: np.ndarray, size: tuple[float, float]) -> float:
    """How far (share of the long side) the projective part of ``homography`` (normalised
    coordinates, centre at the origin, picture ``size`` down and across) moves a corner."""
    h, w = size
    corners = np.array([[-w / 2, -h / 2], [w / 2, -h / 2], [w / 2, h / 2], [-w / 2, h / 2]])
    scale = (corners @ homography[2, :2] + homography[2, 2]) / homography[2, 2]
    return float(np.max(np.abs(1 / scale - 1) * np.linalg.norm(corners, axis=1)))


def _checked(homography: np.ndarray, shape: tuple[int, int]) -> np.ndarray | None:
    """``homography`` if it moves the corners enough to matter and not implausibly far."""
    h, w = shape
    corners = np.float32([[0, 0], [w, 0], [w, h], [0, h]]).reshape(-1, 1, 2)
    moved = cv2.perspectiveTransform(corners, homography).reshape(-1, 2)
    moved -= moved.mean(axis=0) - corners.reshape(-1, 2).mean(axis=0)
    shift = float(np.abs(moved - corners.reshape(-1, 2)).max()) / max(h, w)
    return homography if MIN_WARP <= shift <= MAX_WARP else None


def turn_degrees(homography: np.ndarray, shape: tuple[int, int]) -> float:
    """Degrees (counter-clockwise) the print's rows run in the picture, at its centre:
    the turn ``homography`` takes out."""
    h, w = shape
    centre = np.float32([[[w / 2, h / 2]]])
    mapped = cv2.perspectiveTransform(centre, homography)[0, 0]
    back = cv2.perspectiveTransform(
        np.float32([[mapped, mapped + [10.0, 0.0]]]), np.linalg.inv(homography)
    )[0]
    dx, dy = back[1] - back[0]
    return float(np.degrees(np.arctan2(-dy, dx)))


def framed(homography: np.ndarray, shape: tuple[int, int]) -> tuple[np.ndarray, tuple[int, int]]:
    """``homography`` shifted so that the picture of ``shape`` maps inside the output, and
    the output's (width, height)."""
    h, w = shape
    corners = np.float32([[0, 0], [w, 0], [w, h], [0, h]]).reshape(-1, 1, 2)
    moved = cv2.perspectiveTransform(corners, homography).reshape(-1, 2)
    lo, hi = moved.min(axis=0), moved.max(axis=0)
    shift = np.array([[1, 0, -lo[0]], [0, 1, -lo[1]], [0, 0, 1]])
    return shift @ homography, (int(np.ceil(hi[0] - lo[0])), int(np.ceil(hi[1] - lo[1])))

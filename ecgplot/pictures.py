"""Picture files of paper ECGs: finding them in a folder, reading them (every page of a
PDF, EXIF orientation honoured, a pixel limit checked before decoding), turning them."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from .aiwin import BadInputError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp", ".gif")
HEIF_SUFFIXES = (".heic", ".heif")
PDF_SUFFIX = ".pdf"
PICTURE_SUFFIXES = (*IMAGE_SUFFIXES, *HEIF_SUFFIXES, PDF_SUFFIX)
MAX_PIXELS = 80_000_000  # a 600 dpi A4 scan is 35 megapixels
MIN_SIDE = 64
PDF_DPI = 200  # a PDF page is rendered at this resolution: 1 mm is 7.9 px
Image.MAX_IMAGE_PIXELS = None  # the limit is checked here, with the file's name


def list_pictures(folder: str | Path) -> list[Path]:
    """Picture files of a folder by suffix (``PICTURE_SUFFIXES``), sorted; the rest are
    :func:`skipped_files`."""
    folder = Path(folder)
    if not folder.is_dir():
        raise BadInputError(folder, "is not a folder of pictures")
    found = sorted(p for p in folder.iterdir() if _why_skipped(p) is None)
    if not found:
        raise BadInputError(folder, f"no pictures here ({', '.join(PICTURE_SUFFIXES)})")
    return found


def skipped_files(folder: str | Path) -> dict[Path, str]:
    """Everything else in the folder, with why it is not read."""
    entries = sorted(Path(folder).iterdir())
    return {p: why for p in entries if (why := _why_skipped(p)) is not None}


def _why_skipped(path: Path) -> str | None:
    if path.is_dir():
        return "a folder (pictures are read from the top level only)"
    if path.name.startswith("."):
        return "a hidden file"
    if path.suffix.lower() not in PICTURE_SUFFIXES:
        kind = path.suffix or "no suffix"
        return f"not a picture the project reads ({kind}; reads {', '.join(PICTURE_SUFFIXES)})"
    return None


def read_pages(path: str | Path) -> list[np.ndarray]:
    """RGB uint8 (H, W, 3) of each page of a picture file: one for an image (EXIF
    orientation applied, transparency over white, 16-bit scaled, a GIF's first frame),
    every page of a PDF rendered at ``PDF_DPI``. Unreadable files, pictures over
    ``MAX_PIXELS`` (refused before decoding) and tiny ones are bad input naming the file."""
    path = Path(path)
    if not path.is_file():
        raise BadInputError(path, "file not found")
    pages = _pdf_pages(path) if path.suffix.lower() == PDF_SUFFIX else [_image(path)]
    for rgb in pages:
        if min(rgb.shape[:2]) < MIN_SIDE:
            raise BadInputError(path, f"image is {rgb.shape[1]}x{rgb.shape[0]}: too small")
    return pages


def read_picture(path: str | Path) -> np.ndarray:
    """RGB uint8 of a one-page picture file (:func:`read_pages`)."""
    pages = read_pages(path)
    if len(pages) != 1:
        raise BadInputError(path, f"has {len(pages)} pages: read them with read_pages")
    return pages[0]


def _check_pixels(path: Path, width: float, height: float) -> None:
    if width * height > MAX_PIXELS:
        raise BadInputError(
            path,
            f"picture is {width:.0f}x{height:.0f} = {width * height / 1e6:.0f} megapixels, "
            f"over the limit of {MAX_PIXELS / 1e6:.0f} (a 600 dpi A4 scan is 35)",
        )


def _image(path: Path) -> np.ndarray:
    if path.suffix.lower() in HEIF_SUFFIXES:
        _register_heif(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PIL warns of odd metadata: read the pixels
        try:
            img = Image.open(path)  # reads the header only
        except (UnidentifiedImageError, OSError) as exc:
            raise _unreadable(path, exc) from None
        with img:
            _check_pixels(path, *img.size)
            try:
                img.seek(0)  # a GIF's (or multi-frame TIFF's) first frame
                return _to_rgb(ImageOps.exif_transpose(img))
            except (OSError, ValueError, SyntaxError) as exc:  # truncated or corrupt data
                raise _unreadable(path, exc) from None


def _unreadable(path: Path, exc: Exception) -> BadInputError:
    """The decoder's complaint, without the file's path (the error names it once)."""
    why = "" if isinstance(exc, UnidentifiedImageError) else f": {exc}".replace(str(path), "it")
    return BadInputError(path, f"not a readable image ({', '.join(PICTURE_SUFFIXES)}){why}")


def _register_heif(path: Path) -> None:
    try:
        from pillow_heif import register_heif_opener
    except ImportError:
        raise BadInputError(path, "HEIC/HEIF pictures need pillow-heif installed") from None
    register_heif_opener()


def _to_rgb(img: Image.Image) -> np.ndarray:
    """RGB uint8 of any PIL mode: alpha composited over white paper, 16- and 32-bit
    grey scaled to 8 bits, palettes expanded."""
    if img.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        grey = np.asarray(img, np.float64)
        top = 65535.0 if img.mode.startswith("I;16") or grey.max() > 255 else 255.0
        grey = np.clip(grey / top * 255.0 + 0.5, 0, 255).astype(np.uint8)
        return np.repeat(grey[..., None], 3, axis=2)
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        paper = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return np.asarray(Image.alpha_composite(paper, rgba).convert("RGB"))
    return np.asarray(img.convert("RGB"))


def _pdf_pages(path: Path) -> list[np.ndarray]:
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as exc:
        raise BadInputError(path, f"not a readable PDF ({exc})") from None
    try:
        if len(pdf) == 0:
            raise BadInputError(path, "a PDF without pages")
        scale = PDF_DPI / 72.0  # PDF sizes are in points
        pages = []
        for page in pdf:
            width, height = page.get_size()
            _check_pixels(path, width * scale, height * scale)
            bitmap = page.render(scale=scale, fill_color=(255, 255, 255, 255))
            pages.append(np.asarray(bitmap.to_pil().convert("RGB")))
        return pages
    finally:
        pdf.close()

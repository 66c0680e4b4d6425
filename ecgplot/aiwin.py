"""AIWIN ECG challenge file formats: MAT records, label CSVs and answer files.

Record: MAT file with variable ``ecgdata``, float array (12, 5000) in mV at 500 Hz,
leads I, II, III, aVR, aVL, aVF, V1-V6.
Task 1 labels: ``trainreference.csv`` with header ``name,tag`` (0 normal, 1 abnormal).
Task 2 labels: ``trainreference.csv`` without header, lines ``NAME,l1[,l2...]``, ids 1-12.
"""

from __future__ import annotations

import csv
import io
import os
import re
import stat
import tempfile
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.io

from .atomic import atomic_path, atomic_write

LEADS = ("I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6")
FS = 500
N_SAMPLES = 5000
MAT_KEY = "ecgdata"
CLASS_NAMES = (
    "normal",
    "sinus bradycardia",
    "sinus tachycardia",
    "sinus arrhythmia",
    "atrial fibrillation",
    "premature ventricular contraction",
    "premature atrial contraction",
    "first-degree AV block",
    "complete right bundle branch block",
    "T-wave change",
    "ST change",
    "other",
)
N_CLASSES = len(CLASS_NAMES)
NORMAL_ID = 1


class BadInputError(ValueError):
    """A file that does not follow the AIWIN format; the message names file and problem."""

    def __init__(self, path: str | Path, problem: str):
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"{path}: {problem}")


@dataclass(frozen=True)
class Record:
    """One validated 12-lead ECG: ``signal`` is float32 (12, n) in mV."""

    name: str
    signal: np.ndarray
    fs: int = FS


MAX_ABS_MV = 40.0  # 16-bit carts at 1000/mV saturate at 32.8 mV; more is another unit
MIN_PEAK_TO_PEAK_MV = 0.02  # a whole record flatter than this carries no ECG


def validate_signal(
    signal: np.ndarray, path: str | Path, n_samples: int = N_SAMPLES, missing_ok: bool = False
) -> np.ndarray:
    """Return ``signal`` as float32 (12, n_samples) mV or raise :class:`BadInputError`.

    ``missing_ok``: NaN marks samples a source does not show (a digitised print shows
    2.5 s of most leads); inf is still an error and some samples must be there.

    Checked after the float32 cast (values beyond float32 become inf), and for physical
    plausibility: integer arrays (ADC counts, MAT logicals) are not mV, amplitudes above
    ``MAX_ABS_MV`` are another unit (µV, counts), and a record whose peak-to-peak range
    is below ``MIN_PEAK_TO_PEAK_MV`` is flat (all zero, constant, or scaled to nothing).
    """
    arr = np.asarray(signal)
    if arr.dtype.kind in "iub":
        raise BadInputError(
            path, f"'{MAT_KEY}' is {arr.dtype} (ADC counts or a logical?): expected float mV"
        )
    if arr.dtype.kind != "f":
        raise BadInputError(path, f"'{MAT_KEY}' has non-numeric dtype {arr.dtype}")
    arr = np.squeeze(arr) if arr.ndim > 2 else arr
    expected = (len(LEADS), n_samples)
    if arr.shape != expected:
        hint = " (looks transposed: expected leads first)" if arr.shape == expected[::-1] else ""
        raise BadInputError(path, f"'{MAT_KEY}' has shape {arr.shape}, expected {expected}{hint}")
    with np.errstate(over="ignore", invalid="ignore"):
        arr = arr.astype(np.float32)
    finite = np.isfinite(arr)
    if missing_ok and not np.isinf(arr).any() and finite.any():
        finite = finite | np.isnan(arr)
    if not finite.all():
        bad_leads = [LEADS[i] for i in np.flatnonzero(~finite.all(axis=1))]
        n_bad = int((~finite).sum())
        raise BadInputError(
            path,
            f"{n_bad} NaN/inf values in leads {', '.join(bad_leads)} (after the float32 cast)",
        )
    peak = float(np.nanmax(np.abs(arr)))
    if peak > MAX_ABS_MV:
        raise BadInputError(
            path, f"amplitude {peak:.4g} mV is implausible (> {MAX_ABS_MV:g} mV): µV or ADC counts?"
        )
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN leads of a print
        span = float(np.nanmax(np.nanmax(arr, axis=1) - np.nanmin(arr, axis=1)))
    if span < MIN_PEAK_TO_PEAK_MV:
        raise BadInputError(
            path,
            f"flat record: largest peak-to-peak {span:.3g} mV (< {MIN_PEAK_TO_PEAK_MV:g} mV); "
            "all zero, constant, or not in mV",
        )
    return arr


MAX_NAME_LENGTH = 200
MAT_HEADER_BYTES = 128  # a level-5 MAT file's text header and version
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


def check_name(name: str, path: str | Path) -> str:
    """A record name must be safe in answer.csv and as a file name: ASCII letters, digits,
    ``_ . -``, at most ``MAX_NAME_LENGTH`` characters."""
    if len(name) > MAX_NAME_LENGTH:
        raise BadInputError(path, f"record name is {len(name)} characters (> {MAX_NAME_LENGTH})")
    if not NAME_PATTERN.fullmatch(name):
        raise BadInputError(
            path, f"record name {name!r} has characters other than letters, digits, _ . -"
        )
    return name


def read_record(path: str | Path, missing_ok: bool = False) -> Record:
    """Read and validate one AIWIN MAT record (``missing_ok``: NaN allowed where the
    source shows nothing, as in records digitised from prints)."""
    path = Path(path)
    check_name(path.stem, path)
    check_regular_file(path)
    if path.stat().st_size == 0:
        raise BadInputError(path, "file is empty")
    try:
        mat = scipy.io.loadmat(path)
    except OSError as exc:  # scipy's reader hit the end of the file inside a variable
        raise BadInputError(
            path, f"truncated MAT file: it ends inside its data ({type(exc).__name__}: {exc})"
        ) from exc
    except Exception as exc:  # scipy raises ValueError, TypeError... on corrupt files
        raise BadInputError(path, f"not a readable MAT file ({type(exc).__name__}: {exc})") from exc
    found = [k for k in mat if not k.startswith("__")]
    if not found and path.stat().st_size <= MAT_HEADER_BYTES + 8:
        raise BadInputError(path, "truncated MAT file: nothing after its header")
    if MAT_KEY not in mat:
        raise BadInputError(
            path, f"no variable '{MAT_KEY}' (variables found: {', '.join(found) or 'none'})"
        )
    return Record(path.stem, validate_signal(mat[MAT_KEY], path, missing_ok=missing_ok))


def check_regular_file(path: Path) -> None:
    """Raise :class:`BadInputError` unless ``path`` is a regular file (or a link to one):
    a dangling link, a folder or a FIFO named like a record is bad input, and a FIFO is
    never opened (reading it would wait forever)."""
    if path.is_symlink() and not path.exists():
        raise BadInputError(path, f"dangling link (to {os.readlink(path)})")
    if not path.exists():
        raise BadInputError(path, "file not found")
    mode = path.stat().st_mode
    if stat.S_ISDIR(mode):
        raise BadInputError(path, "is a folder, not a MAT file")
    if not stat.S_ISREG(mode):
        raise BadInputError(path, "is not a regular file (a FIFO, socket or device)")


def list_records(folder: str | Path) -> list[Path]:
    """MAT entries of a folder, sorted: ``.mat`` in any case; hidden files (leftover
    temporary files, ``._*`` resource forks) are not records. Entries that are not
    regular files (dangling links, folders, FIFOs) are listed too: reading them gives
    the error that names what they are, so they are reported, not silently left out."""
    return sorted(
        p
        for p in Path(folder).iterdir()
        if p.suffix.lower() == ".mat" and not p.name.startswith(".")
    )


def write_record(path: str | Path, signal: np.ndarray, missing_ok: bool = False) -> None:
    """Write ``signal`` (12, 5000) mV as an AIWIN MAT record, atomically (``missing_ok``:
    NaN where the source shows nothing, as digitised prints have)."""
    arr = validate_signal(signal, path, missing_ok=missing_ok)
    buf = io.BytesIO()
    scipy.io.savemat(buf, {MAT_KEY: arr.astype(np.float64)})
    with atomic_write(path, "wb") as fh:
        fh.write(buf.getvalue())


SIGNAL_FORMATS = ("mat", "wfdb", "csv")  # how a record is written out (write_signal)
WFDB_GAIN = 1e5  # WFDB: ADC units per mV of the 32-bit samples (10 nV steps)


def write_signal(stem: str | Path, signal: np.ndarray, fmt: str = "mat") -> list[Path]:
    """Write a record ``stem`` (a path without suffix) in ``fmt``: ``mat`` the AIWIN MAT
    file ``stem.mat``; ``wfdb`` a WFDB record ``stem.hea`` + ``stem.dat`` (32-bit
    samples, 10 nV steps, missing samples as WFDB's invalid value, read back as NaN);
    ``csv`` ``stem.csv`` with ``time_s`` and one column per lead in mV (missing:
    empty). NaN marks what the source does not show; each file is written atomically.
    Returns the files written."""
    stem = Path(stem)
    arr = validate_signal(signal, stem, missing_ok=True)
    if fmt == "mat":
        write_record(stem.with_suffix(".mat"), arr, missing_ok=True)
        return [stem.with_suffix(".mat")]
    if fmt == "csv":
        table = pd.DataFrame(arr.T.astype(np.float64), columns=list(LEADS))
        table.insert(0, "time_s", np.arange(arr.shape[1]) / FS)
        with atomic_path(stem.with_suffix(".csv")) as tmp:
            table.to_csv(tmp, index=False, float_format="%.6f")
        return [stem.with_suffix(".csv")]
    if fmt == "wfdb":
        return _write_wfdb(stem, arr)
    raise ValueError(f"unknown signal format {fmt!r}; choose from {SIGNAL_FORMATS}")


def _write_wfdb(stem: Path, arr: np.ndarray) -> list[Path]:
    import wfdb  # only where WFDB is written

    stem.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f".{stem.name}.", dir=stem.parent) as tmp:
        wfdb.wrsamp(
            stem.name,
            fs=FS,
            units=["mV"] * len(LEADS),
            sig_name=list(LEADS),
            p_signal=arr.T.astype(np.float64),
            fmt=["32"] * len(LEADS),
            adc_gain=[WFDB_GAIN] * len(LEADS),
            baseline=[0] * len(LEADS),
            write_dir=tmp,
        )
        written = [stem.with_suffix(".dat"), stem.with_suffix(".hea")]  # header last
        for path in written:
            os.replace(Path(tmp) / path.name, path)
    return written


def _read_rows(path: Path) -> list[list[str]]:
    if not path.is_file():
        raise BadInputError(path, "file not found")
    try:
        text = path.read_text(encoding="utf-8-sig")
        rows = [[c.strip() for c in row] for row in csv.reader(io.StringIO(text, newline=""))]
    except UnicodeDecodeError as exc:
        raise BadInputError(path, f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except csv.Error as exc:
        raise BadInputError(path, f"not a readable CSV ({exc})") from None
    rows = [r for r in rows if any(r)]
    if not rows:
        raise BadInputError(path, "label file is empty")
    return rows


def detect_task(path: str | Path) -> int:
    """Return 1 if the label file has the task-1 header ``name,tag``, else 2."""
    first = _read_rows(Path(path))[0]
    return 1 if [c.lower() for c in first[:2]] == ["name", "tag"] else 2


def _check_unique(path: Path, names: Sequence[str]) -> None:
    seen: set[str] = set()
    dups = sorted({n for n in names if n in seen or seen.add(n)})
    if dups:
        raise BadInputError(path, f"duplicate record names: {', '.join(dups[:10])}")


def read_labels_task1(path: str | Path) -> dict[str, int]:
    """Read a task-1 ``trainreference.csv`` (header ``name,tag``) into {name: 0|1}."""
    path = Path(path)
    rows = _read_rows(path)
    if [c.lower() for c in rows[0]] != ["name", "tag"]:
        raise BadInputError(path, f"expected header 'name,tag', found {','.join(rows[0])!r}")
    for lineno, row in enumerate(rows[1:], start=2):
        if len(row) != 2 or not row[0]:
            raise BadInputError(path, f"line {lineno}: expected 'name,tag', found {row}")
        check_name(row[0], f"{path} line {lineno}")
        if row[1] not in ("0", "1"):
            raise BadInputError(path, f"line {lineno}: tag must be 0 or 1, found {row[1]!r}")
    names = [r[0] for r in rows[1:]]
    _check_unique(path, names)
    labels = {r[0]: int(r[1]) for r in rows[1:]}
    if not labels:
        raise BadInputError(path, "label file has a header but no records")
    return labels


def read_labels_task2(path: str | Path) -> dict[str, list[int]]:
    """Read a task-2 ``trainreference.csv`` (no header) into {name: sorted label ids}."""
    path = Path(path)
    rows = _read_rows(path)
    if [c.lower() for c in rows[0][:2]] == ["name", "tag"]:
        raise BadInputError(path, "has the task-1 header 'name,tag'; task-2 files have no header")
    labels: dict[str, list[int]] = {}
    for lineno, row in enumerate(rows, start=1):
        cells = [c for c in row if c]
        if len(cells) < 2 or not row[0]:
            raise BadInputError(path, f"line {lineno}: expected 'NAME,l1[,l2...]', found {row}")
        check_name(row[0], f"{path} line {lineno}")
        if not all(re.fullmatch(r"[0-9]+", c) for c in cells[1:]):
            raise BadInputError(
                path, f"line {lineno}: label ids must be plain digits 1-12, found {row[1:]}"
            )
        ids = [int(c) for c in cells[1:]]
        out_of_range = [i for i in ids if not 1 <= i <= N_CLASSES]
        if out_of_range:
            raise BadInputError(
                path, f"line {lineno}: label ids must be 1-{N_CLASSES}, found {out_of_range}"
            )
        labels.setdefault(row[0], sorted(set(ids)))
    _check_unique(path, [r[0] for r in rows])
    return labels


def read_labels(path: str | Path, task: int) -> dict[str, int] | dict[str, list[int]]:
    """Read the label file of ``task`` (1 or 2)."""
    if task == 1:
        return read_labels_task1(path)
    if task == 2:
        return read_labels_task2(path)
    raise ValueError(f"task must be 1 or 2, got {task!r}")


def labels_to_multihot(ids: Iterable[int]) -> np.ndarray:
    """Label ids 1-12 to a float32 multi-hot vector of length 12."""
    vec = np.zeros(N_CLASSES, dtype=np.float32)
    vec[[i - 1 for i in ids]] = 1.0
    return vec


def label_matrix(
    labels: Mapping[str, int | Sequence[int]], names: Sequence[str], task: int
) -> np.ndarray:
    """Targets of ``names`` in order: task 1 (n,) tags; task 2 (n, 12) multi-hot rows."""
    if task == 1:
        return np.array([labels[n] for n in names])
    return np.stack([labels_to_multihot(labels[n]) for n in names])


def write_labels(path: str | Path, labels: Mapping[str, int | Sequence[int]], task: int) -> None:
    """Write labels in the task's ``trainreference.csv`` / ``answer.csv`` format, atomically.

    Task 1: header ``name,tag``; task 2: no header, ``NAME,l1[,l2...]``.
    """
    with atomic_write(path, "w", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        if task == 1:
            writer.writerow(["name", "tag"])
            writer.writerows([name, int(tag)] for name, tag in labels.items())
        elif task == 2:
            writer.writerows([name, *sorted(ids)] for name, ids in labels.items())
        else:
            raise ValueError(f"task must be 1 or 2, got {task!r}")


def prob_columns(task: int) -> list[str]:
    """Probability column names: task 1 ``p_normal,p_abnormal``; task 2 ``p1``..``p12``."""
    return ["p_normal", "p_abnormal"] if task == 1 else [f"p{i}" for i in range(1, N_CLASSES + 1)]


def write_probs(path: str | Path, names: Sequence[str], probs: np.ndarray, task: int) -> None:
    """Write ``name`` + one probability column per class (for ensembling), atomically, to
    eight significant digits: a boosted model's confident 1e-9 is not written as a 0
    that ties it with every other (six decimals cost the feature model 0.01-0.015 of its
    task-2 macro-AUC)."""
    frame = pd.DataFrame(
        np.asarray(probs), index=pd.Index(list(names), name="name"), columns=prob_columns(task)
    )
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, float_format="%.8g", lineterminator="\n")


def read_probs_frame(path: str | Path, task: int | None = None) -> pd.DataFrame:
    """A ``probs.csv`` as a frame indexed by ``name``, one float column per class. The
    task is read from the header when not given. Anything but a well-formed table of
    probabilities in [0, 1] with unique names is :class:`BadInputError`."""
    path = Path(path)
    if not path.is_file():
        raise BadInputError(path, "file not found")
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise BadInputError(path, f"not a readable probs CSV ({exc})".replace("\n", " ")) from None
    if task is None:
        task = 1 if list(frame.columns[1:]) == prob_columns(1) else 2
    expected = ["name", *prob_columns(task)]
    if list(frame.columns) != expected:
        raise BadInputError(path, f"expected header {','.join(expected)}")
    if frame.empty:
        raise BadInputError(path, "has a header but no records")
    dups = frame.loc[frame["name"].duplicated(), "name"].tolist()
    if dups:
        raise BadInputError(path, f"duplicate record names: {', '.join(dups[:10])}")
    frame = frame.set_index("name")
    values = frame.apply(pd.to_numeric, errors="coerce").astype(np.float64)
    bad = values.isna() | (values < 0) | (values > 1)
    if bad.any().any():
        row = int(np.flatnonzero(bad.any(axis=1).to_numpy())[0])
        raise BadInputError(
            path,
            f"line {row + 2}: probabilities must be numbers in [0, 1], found "
            f"{','.join(frame.iloc[row])}",
        )
    return values


def read_probs(path: str | Path, task: int) -> tuple[list[str], np.ndarray]:
    """Read a file written by :func:`write_probs`: names and (n, classes) probabilities."""
    frame = read_probs_frame(path, task)
    return list(frame.index), frame.to_numpy()


def write_bad_records(path: str | Path, bad: Mapping[str, str]) -> None:
    """``path,problem`` list of the records a run skipped, atomically."""
    with atomic_write(path, "w", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["path", "problem"])
        writer.writerows(sorted(bad.items()))

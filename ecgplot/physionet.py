"""PhysioNet WFDB records (PTB-XL, PhysioNet/CinC 2021) to AIWIN records and labels.

Label mapping follows the Challenge's SNOMED CT table and PTB-XL's SCP-ECG statements
(see ``../shared/data/README.md``): class 1 "normal" only when no other class applies.
"""

from __future__ import annotations

import ast
import csv
import json
import logging
import os
import re
import tempfile
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import wfdb
from tqdm import tqdm

from .aiwin import FS, LEADS, N_SAMPLES, NORMAL_ID, BadInputError, write_labels, write_record
from .atomic import atomic_write
from .signal import fix_length, resample

log = logging.getLogger(__name__)

SINUS_RHYTHM_SNOMED = "426783006"
SNOMED_TO_CLASS: dict[str, int] = {
    "426177001": 2,
    "427084000": 3,
    "427393009": 4,
    "164889003": 5,
    "427172004": 6,
    "17338001": 6,
    "284470004": 7,
    "63593006": 7,
    "270492004": 8,
    "713427006": 9,
    "59118001": 9,
    "164934002": 10,
    "59931005": 10,
    "429622005": 11,
    "164931005": 11,
    "55930002": 11,
}
OTHER_ID = 12

SCP_TO_CLASS: dict[str, int] = {
    "SBRAD": 2,
    "STACH": 3,
    "SARRH": 4,
    "AFIB": 5,
    "PVC": 6,
    "PAC": 7,
    "1AVB": 8,
    "CRBBB": 9,
    "NDT": 10,
    "NT_": 10,
    "INVT": 10,
    "LOWT": 10,
    "TAB_": 10,
    "STD_": 11,
    "STE_": 11,
    "NST_": 11,
}
SCP_ISCHEMIA_PREFIX = "ISC"  # ISC_, ISCAL, ISCAN, ISCAS, ISCIL, ISCIN, ISCLA


def finalize_labels(classes: Iterable[int], normal: bool) -> list[int]:
    """Apply "normal excludes every other label": [1] only when nothing else applies."""
    found = sorted(set(classes) - {NORMAL_ID})
    if found:
        return found
    return [NORMAL_ID] if normal else []


def snomed_to_classes(codes: Iterable[str]) -> list[int]:
    """Map PhysioNet/CinC 2021 SNOMED CT codes to AIWIN class ids (sorted, maybe empty)."""
    codes = [c.strip() for c in codes if c.strip()]
    classes = [SNOMED_TO_CLASS.get(c, OTHER_ID) for c in codes if c != SINUS_RHYTHM_SNOMED]
    return finalize_labels(classes, normal=SINUS_RHYTHM_SNOMED in codes)


def scp_to_classes(scp_codes: dict[str, float], diagnostic_or_rhythm: set[str]) -> list[int]:
    """Map PTB-XL SCP statements to AIWIN class ids (sorted, maybe empty).

    NORM alone gives class 1; SR is ignored; the ischemia statements (ISC_, ISCAL, ...) give
    11; other diagnostic or rhythm statements give 12; unmapped form-only statements
    (e.g. ABQRS, LVOLT) are ignored.
    """
    classes = []
    for code in scp_codes:
        if code in ("NORM", "SR"):
            continue
        if code in SCP_TO_CLASS:
            classes.append(SCP_TO_CLASS[code])
        elif code.startswith(SCP_ISCHEMIA_PREFIX):
            classes.append(11)
        elif code in diagnostic_or_rhythm:
            classes.append(OTHER_ID)
    return finalize_labels(classes, normal="NORM" in scp_codes)


def task1_tag(classes: list[int]) -> int:
    """Task-1 tag from task-2 classes: 0 normal (only class 1), 1 abnormal."""
    return 0 if classes == [NORMAL_ID] else 1


_DX = re.compile(r"^#\s*Dx:\s*(.*)$", re.IGNORECASE)


def cinc_dx_codes(header: wfdb.Record) -> list[str]:
    """SNOMED codes from a CinC header's ``# Dx:`` or ``#Dx:`` comment line."""
    for comment in header.comments:
        m = _DX.match("#" + comment.strip())
        if m:
            return [c for c in m.group(1).replace(" ", "").split(",") if c]
    return []


@dataclass
class PhysioRecord:
    """A WFDB record converted to AIWIN units and length, with its AIWIN classes."""

    name: str
    signal: np.ndarray  # float32 (12, 5000) mV, AIWIN lead order
    classes: list[int]
    length_fix: str  # "ok", "cropped" or "padded"


def _rdrecord(path: Path) -> wfdb.Record:
    """``wfdb.rdrecord``, tolerating CinC headers whose record name keeps its extension.

    Some Georgia (E*) headers start ``E00271.mat 12 500 5000``, which wfdb rejects; such
    a header is corrected in a temporary folder beside a link to the signal file.
    """
    hea = path.with_suffix(".hea")
    lines = hea.read_text().splitlines() if hea.is_file() else []
    first = lines[0].split() if lines else []
    if not first or "." not in first[0]:
        return wfdb.rdrecord(str(path))
    with tempfile.TemporaryDirectory() as tmp:
        fixed = Path(tmp) / path.name
        first[0] = path.name
        fixed.with_suffix(".hea").write_text("\n".join([" ".join(first), *lines[1:]]) + "\n")
        for line in lines[1:]:
            parts = line.split()
            if parts and not line.startswith("#") and not (Path(tmp) / parts[0]).exists():
                os.symlink((path.parent / parts[0]).resolve(), Path(tmp) / parts[0])
        return wfdb.rdrecord(str(fixed))


def read_wfdb(path: str | Path) -> tuple[np.ndarray, wfdb.Record]:
    """Read a WFDB record (path without extension) as float32 (12, n) mV at 500 Hz."""
    path = Path(path)
    try:
        rec = _rdrecord(path)
    except Exception as exc:
        raise BadInputError(path, f"unreadable WFDB record ({type(exc).__name__}: {exc})") from exc
    index = {name.upper(): i for i, name in enumerate(rec.sig_name)}
    missing = [lead for lead in LEADS if lead.upper() not in index]
    if missing:
        raise BadInputError(path, f"missing leads {missing} (has {rec.sig_name})")
    units = {u.lower() for u in rec.units}
    if units - {"mv"}:
        raise BadInputError(path, f"signal units {sorted(units)}, expected mV")
    sig = rec.p_signal[:, [index[lead.upper()] for lead in LEADS]].T
    sig = resample(sig, rec.fs, FS)
    sig = np.nan_to_num(sig, nan=0.0)  # WFDB marks missing samples as NaN
    return sig.astype(np.float32), rec


def load_ptbxl_statements(root: Path) -> set[str]:
    """SCP codes that are diagnostic or rhythm statements, from ``scp_statements.csv``."""
    with open(root / "scp_statements.csv", newline="") as fh:
        return {
            row[""]
            for row in csv.DictReader(fh)
            if row.get("diagnostic") == "1.0" or row.get("rhythm") == "1.0"
        }


@dataclass(frozen=True)
class SourceRecord:
    """Where one WFDB record lives and how to label it (PTB-XL rows carry their SCP codes)."""

    path: Path  # without extension
    scp_codes: dict[str, float] | None = None  # PTB-XL only
    statements: frozenset[str] = frozenset()  # PTB-XL diagnostic/rhythm codes

    def load(self) -> PhysioRecord:
        """Read, convert to AIWIN units/length and label this record."""
        sig, rec = read_wfdb(self.path)
        sig, fix = fix_length(sig, N_SAMPLES)
        if self.scp_codes is not None:
            classes = scp_to_classes(self.scp_codes, set(self.statements))
        else:
            classes = snomed_to_classes(cinc_dx_codes(rec))
        return PhysioRecord(self.path.name, sig, classes, fix)


def list_ptbxl(root: Path) -> list[SourceRecord]:
    """PTB-XL 500 Hz records listed in ``ptbxl_database.csv`` whose files exist."""
    statements = frozenset(load_ptbxl_statements(root))
    with open(root / "ptbxl_database.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    return [
        SourceRecord(root / row["filename_hr"], ast.literal_eval(row["scp_codes"]), statements)
        for row in rows
        if (root / (row["filename_hr"] + ".hea")).is_file()
    ]


def list_cinc(root: Path) -> list[SourceRecord]:
    """PhysioNet/CinC 2021 records (``NAME.hea`` + signal file) in ``root``."""
    return [SourceRecord(hea.with_suffix("")) for hea in sorted(root.glob("*.hea"))]


def list_source(src: str | Path) -> list[SourceRecord]:
    """Records of a PTB-XL root, a CinC folder, or a folder holding several of them."""
    src = Path(src)
    if not src.is_dir():
        raise BadInputError(src, "source folder not found")
    if (src / "ptbxl_database.csv").is_file():
        return list_ptbxl(src)
    if any(src.glob("*.hea")):
        return list_cinc(src)
    found = [ref for sub in sorted(src.iterdir()) if sub.is_dir() for ref in _try_list(sub)]
    if not found:
        raise BadInputError(src, "no PTB-XL database or WFDB headers found")
    return found


def _try_list(sub: Path) -> list[SourceRecord]:
    try:
        return list_source(sub)
    except BadInputError:
        return []


@dataclass
class ImportReport:
    """What an import did: counts, length fixes, skipped records and class frequencies."""

    n_written: int = 0
    n_cropped: int = 0
    n_padded: int = 0
    skipped: dict[str, str] = field(default_factory=dict)
    class_counts: dict[int, int] = field(default_factory=dict)

    def summary(self) -> str:
        return (
            f"{self.n_written} records written ({self.n_cropped} cropped, {self.n_padded} padded "
            f"to 10 s), {len(self.skipped)} skipped"
        )


def import_physionet(
    src: str | Path, out: str | Path, task: int, skip_bad: bool = False
) -> ImportReport:
    """Convert WFDB records under ``src`` into the AIWIN layout under ``out``.

    Writes ``out/train/NAME.mat`` (``ecgdata`` in mV), ``out/trainreference.csv`` in the
    task-1 or task-2 format and ``out/import_report.json``. A bad record raises
    :class:`BadInputError`, or is skipped and listed in the report when ``skip_bad``.
    """
    out = Path(out)
    refs = list_source(src)
    names = [ref.path.name for ref in refs]
    dups = sorted({n for n in names if names.count(n) > 1})
    if dups:
        raise BadInputError(src, f"record names occur twice: {', '.join(dups[:10])}")
    report = ImportReport()
    labels: dict[str, list[int]] = {}
    for ref in tqdm(refs, desc="import", unit="rec", disable=None):
        try:
            rec = ref.load()
            if not rec.classes:
                raise BadInputError(ref.path, "no diagnosis that maps to an AIWIN class")
        except BadInputError as exc:
            if not skip_bad:
                raise
            report.skipped[ref.path.name] = exc.problem
            log.warning("skipped %s", exc)
            continue
        write_record(out / "train" / f"{rec.name}.mat", rec.signal)
        labels[rec.name] = rec.classes
        report.n_written += 1
        report.n_cropped += rec.length_fix == "cropped"
        report.n_padded += rec.length_fix == "padded"
        for c in rec.classes:
            report.class_counts[c] = report.class_counts.get(c, 0) + 1
    if task == 1:
        write_labels(out / "trainreference.csv", {n: task1_tag(c) for n, c in labels.items()}, 1)
    else:
        write_labels(out / "trainreference.csv", labels, 2)
    with atomic_write(out / "import_report.json") as fh:
        json.dump({"source": str(src), "task": task, **asdict(report)}, fh, indent=2)
    log.info("import %s -> %s: %s", src, out, report.summary())
    return report

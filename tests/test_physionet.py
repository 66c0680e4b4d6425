"""PhysioNet import on real records: values, lead order, lengths, labels."""

from __future__ import annotations

import json

import numpy as np
import pytest
import scipy.io
import wfdb

from ecgplot import aiwin
from ecgplot.aiwin import BadInputError
from ecgplot.physionet import import_physionet, scp_to_classes, snomed_to_classes

from .conftest import CINC, N_FIXTURE_RECORDS, N_SHARED_RECORDS, PTBXL


@pytest.mark.full_data
def test_import_writes_every_record(shared_t2):
    mats = sorted((shared_t2 / "train").glob("*.mat"))
    assert len(mats) == N_SHARED_RECORDS
    labels = aiwin.read_labels(shared_t2 / "trainreference.csv", 2)
    assert set(labels) == {p.stem for p in mats}
    report = json.loads((shared_t2 / "import_report.json").read_text())
    assert report["n_written"] == N_SHARED_RECORDS
    assert report["n_cropped"] == 3  # CinC A1041, A2712, A5215 are longer than 10 s
    assert report["n_padded"] == 0 and report["skipped"] == {}
    assert set(map(int, report["class_counts"])) == set(range(1, 13))


def test_import_writes_every_fixture_record(physionet_t2):
    mats = sorted((physionet_t2 / "train").glob("*.mat"))
    assert len(mats) == N_FIXTURE_RECORDS
    labels = aiwin.read_labels(physionet_t2 / "trainreference.csv", 2)
    assert set(labels) == {p.stem for p in mats}
    report = json.loads((physionet_t2 / "import_report.json").read_text())
    assert report["n_written"] == N_FIXTURE_RECORDS
    assert report["n_cropped"] == 1  # CinC A1041 is 17 s long
    assert report["n_padded"] == 0 and report["skipped"] == {}
    assert set(map(int, report["class_counts"])) == set(range(1, 13))


def test_ptbxl_values_and_lead_order_match_wfdb(physionet_t2):
    # PTB-XL names the augmented leads AVR/AVL/AVF; the AIWIN order is fixed.
    src = wfdb.rdrecord(str(PTBXL / "records500" / "00000" / "00008_hr"))
    ours = aiwin.read_record(physionet_t2 / "train" / "00008_hr.mat").signal
    for i, lead in enumerate(aiwin.LEADS):
        j = [n.upper() for n in src.sig_name].index(lead.upper())
        np.testing.assert_allclose(ours[i], src.p_signal[:, j], atol=1e-6)
    assert src.units[0] == "mV"


def test_cinc_values_in_mv_and_long_record_cropped(physionet_t2):
    # Independent check: the Challenge's own convention, val (int16 µV-ish counts) / 1000.
    for name in ("JS03291", "A1041"):
        val = scipy.io.loadmat(CINC / f"{name}.mat")["val"].astype(np.float64)
        ours = aiwin.read_record(physionet_t2 / "train" / f"{name}.mat").signal
        np.testing.assert_allclose(ours, val[:, :5000] / 1000.0, atol=1e-6)
    assert val.shape[1] == 8500  # A1041 really was longer and kept its first 10 s


def test_georgia_header_with_extension_is_read(physionet_t2):
    # E00271.hea starts "E00271.mat 12 500 5000", which wfdb alone rejects.
    assert (CINC / "E00271.hea").read_text().startswith("E00271.mat ")
    val = scipy.io.loadmat(CINC / "E00271.mat")["val"] / 1000.0
    ours = aiwin.read_record(physionet_t2 / "train" / "E00271.mat").signal
    np.testing.assert_allclose(ours, val, atol=1e-6)


@pytest.mark.parametrize(
    ("name", "classes"),
    [
        ("00001_hr", [1]),  # NORM + LVOLT (form only) + SR
        ("00002_hr", [2]),  # NORM + SBRAD: normal excludes every other label
        ("00011_hr", [4]),  # NORM + SARRH
        ("00017_hr", [5, 12]),  # AFLT (rhythm -> other) + AFIB; ABQRS form only
        ("00102_hr", [8, 11]),  # 1AVB + ISCAL (ischemia -> ST change)
        ("00170_hr", [6, 11]),  # PVC + NST_
        ("00172_hr", [9, 12]),  # CRBBB + LAFB
        ("00257_hr", [7, 10, 11, 12]),  # PAC, LOWT, STD_, ASMI/IMI
        ("A0689", [5]),  # 164889003 atrial fibrillation
        ("E00271", [9]),  # 59118001 RBBB
        ("JS03291", [1]),  # 426783006 sinus rhythm alone
        ("JS01560", [2, 12]),  # sinus bradycardia + 428750005 (not in the table -> other)
    ],
)
def test_label_mapping_on_named_records(physionet_t2, physionet_t1, name, classes):
    assert aiwin.read_labels(physionet_t2 / "trainreference.csv", 2)[name] == classes
    tag = aiwin.read_labels(physionet_t1 / "trainreference.csv", 1)[name]
    assert tag == (0 if classes == [1] else 1)


@pytest.mark.full_data
def test_task1_file_format(shared_t1):
    lines = (shared_t1 / "trainreference.csv").read_text().splitlines()
    assert lines[0] == "name,tag"
    assert len(lines) == N_SHARED_RECORDS + 1


def test_task1_file_format_fixture(physionet_t1):
    lines = (physionet_t1 / "trainreference.csv").read_text().splitlines()
    assert lines[0] == "name,tag"
    assert len(lines) == N_FIXTURE_RECORDS + 1


def test_mapping_rules():
    assert snomed_to_classes(["426783006"]) == [1]
    assert snomed_to_classes(["426783006", "164934002"]) == [10]
    assert snomed_to_classes(["17338001", "63593006", "713427006"]) == [6, 7, 9]
    assert snomed_to_classes(["251146004"]) == [12]
    assert snomed_to_classes([]) == []
    statements = {"IMI", "AFLT"}
    assert scp_to_classes({"NORM": 100.0, "SR": 0.0}, statements) == [1]
    assert scp_to_classes({"SR": 0.0, "LVOLT": 0.0}, statements) == []
    assert scp_to_classes({"IMI": 50.0, "STE_": 0.0}, statements) == [11, 12]


def test_import_bad_record_errors_or_is_skipped(tmp_path):
    src = tmp_path / "cinc"
    src.mkdir()
    for name in ("A0689", "JS03291"):
        for ext in (".hea", ".mat"):
            (src / f"{name}{ext}").write_bytes((CINC / f"{name}{ext}").read_bytes())
    (src / "JS03291.mat").write_bytes(b"\x00" * 100)  # corrupt signal file
    with pytest.raises(BadInputError, match="JS03291"):
        import_physionet(src, tmp_path / "out", task=2)
    report = import_physionet(src, tmp_path / "out2", task=2, skip_bad=True)
    assert report.n_written == 1 and list(report.skipped) == ["JS03291"]
    assert aiwin.read_labels(tmp_path / "out2" / "trainreference.csv", 2) == {"A0689": [5]}


def test_import_missing_source(tmp_path):
    with pytest.raises(BadInputError, match="no PTB-XL database or WFDB headers"):
        import_physionet(tmp_path, tmp_path / "out", task=1)

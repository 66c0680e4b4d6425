"""AIWIN record and label I/O: round trips and every kind of bad input."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.io

from ecgplot import aiwin
from ecgplot.aiwin import BadInputError


@pytest.fixture
def signal() -> np.ndarray:
    rng = np.random.default_rng(0)
    return rng.normal(0, 0.5, size=(12, 5000)).astype(np.float32)


def test_record_round_trip(tmp_path, signal):
    path = tmp_path / "A001.mat"
    aiwin.write_record(path, signal)
    rec = aiwin.read_record(path)
    assert rec.name == "A001"
    assert rec.signal.dtype == np.float32 and rec.signal.shape == (12, 5000)
    np.testing.assert_allclose(rec.signal, signal, atol=1e-6)
    assert list(tmp_path.iterdir()) == [path]  # no temp file left behind


def _mat(tmp_path, **variables):
    path = tmp_path / "bad.mat"
    scipy.io.savemat(path, variables)
    return path


@pytest.mark.parametrize(
    ("variables", "problem"),
    [
        ({"val": np.zeros((12, 5000))}, "no variable 'ecgdata' (variables found: val)"),
        ({"ecgdata": np.zeros((5000, 12))}, "looks transposed"),
        ({"ecgdata": np.zeros((12, 4000))}, "shape (12, 4000), expected (12, 5000)"),
        ({"ecgdata": np.zeros((8, 5000))}, "shape (8, 5000)"),
        ({"ecgdata": np.array(["abc"])}, "non-numeric"),
    ],
)
def test_bad_record_variables(tmp_path, variables, problem):
    path = _mat(tmp_path, **variables)
    with pytest.raises(BadInputError) as err:
        aiwin.read_record(path)
    assert str(path) in str(err.value)
    assert problem in str(err.value)


@pytest.mark.parametrize("bad_value", [np.nan, np.inf])
def test_non_finite_values_name_the_lead(tmp_path, signal, bad_value):
    signal = signal.astype(np.float64)
    signal[3, 100:103] = bad_value
    path = _mat(tmp_path, ecgdata=signal)
    with pytest.raises(BadInputError, match=r"3 NaN/inf values in leads aVR"):
        aiwin.read_record(path)


def test_empty_and_truncated_files(tmp_path, signal):
    empty = tmp_path / "empty.mat"
    empty.write_bytes(b"")
    with pytest.raises(BadInputError, match="empty.mat: file is empty"):
        aiwin.read_record(empty)
    good = tmp_path / "good.mat"
    aiwin.write_record(good, signal)
    cut = tmp_path / "cut.mat"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(BadInputError, match="cut.mat: truncated MAT file"):
        aiwin.read_record(cut)
    header_only = tmp_path / "header.mat"
    header_only.write_bytes(good.read_bytes()[:128])
    with pytest.raises(BadInputError, match="header.mat: truncated MAT file: nothing after"):
        aiwin.read_record(header_only)
    with pytest.raises(BadInputError, match="file not found"):
        aiwin.read_record(tmp_path / "missing.mat")


def test_write_record_refuses_bad_signal_and_keeps_old_file(tmp_path, signal):
    path = tmp_path / "A.mat"
    aiwin.write_record(path, signal)
    before = path.read_bytes()
    with pytest.raises(BadInputError, match="NaN"):
        aiwin.write_record(path, np.full((12, 5000), np.nan))
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["A.mat"]


def test_task1_labels(tmp_path):
    path = tmp_path / "trainreference.csv"
    path.write_text("name,tag\nA1,0\nA2,1\n")
    assert aiwin.read_labels(path, 1) == {"A1": 0, "A2": 1}
    assert aiwin.detect_task(path) == 1
    out = tmp_path / "answer.csv"
    aiwin.write_labels(out, {"A1": 0, "A2": 1}, task=1)
    assert out.read_text() == "name,tag\nA1,0\nA2,1\n"


def test_task2_labels(tmp_path):
    path = tmp_path / "trainreference.csv"
    path.write_text("B1,1\nB2,5,12\nB3,10,2,10\n")
    assert aiwin.read_labels(path, 2) == {"B1": [1], "B2": [5, 12], "B3": [2, 10]}
    assert aiwin.detect_task(path) == 2
    out = tmp_path / "answer.csv"
    aiwin.write_labels(out, aiwin.read_labels(path, 2), task=2)
    assert out.read_text() == "B1,1\nB2,5,12\nB3,2,10\n"
    np.testing.assert_array_equal(aiwin.labels_to_multihot([2, 10]).nonzero()[0], [1, 9])


@pytest.mark.parametrize(
    ("task", "text", "problem"),
    [
        (1, "", "label file is empty"),
        (1, "A1,0\n", "expected header 'name,tag'"),
        (1, "name,tag\n", "has a header but no records"),
        (1, "name,tag\nA1,2\n", "line 2: tag must be 0 or 1"),
        (1, "name,tag\nA1,0\nA1,1\n", "duplicate record names: A1"),
        (1, "name,tag\nA1\n", "line 2: expected 'name,tag'"),
        (2, "name,tag\nA1,0\n", "task-1 header"),
        (2, "B1,13\n", "label ids must be 1-12, found [13]"),
        (2, "B1,0\n", "label ids must be 1-12, found [0]"),
        (2, "B1,x\n", "label ids must be plain digits"),
        (2, "B1\n", "line 1: expected 'NAME,l1[,l2...]'"),
        (2, "B1,1\nB2,3\nB1,4\n", "duplicate record names: B1"),
    ],
)
def test_bad_label_files(tmp_path, task, text, problem):
    path = tmp_path / "trainreference.csv"
    path.write_text(text)
    with pytest.raises(BadInputError) as err:
        aiwin.read_labels(path, task)
    assert str(path) in str(err.value)
    assert problem in str(err.value)


@pytest.fixture
def real_signal(physionet_t2) -> np.ndarray:
    return aiwin.read_record(physionet_t2 / "train" / "00008_hr.mat").signal.astype(np.float64)


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda x: np.where(np.arange(5000) == 7, 1e300, x), "NaN/inf values in leads"),
        (lambda x: x * 1e39, "NaN/inf values"),  # finite in float64, inf in float32
        (lambda x: (x * 1000).astype(np.int16), "int16 (ADC counts or a logical?)"),
        (lambda x: (x * 1000).astype(np.int32), "int32"),
        (lambda x: x > 0, "uint8"),  # a MAT logical comes back as uint8
        (lambda x: x * 1e6, "implausible (> 40 mV): µV or ADC counts?"),
        (lambda x: x * 1e-9, "flat record"),
        (lambda x: np.zeros_like(x), "flat record"),
        (lambda x: np.full_like(x, 0.7), "flat record"),
    ],
)
def test_implausible_records_are_bad_input(tmp_path, real_signal, change, problem):
    """A real record made implausible in each way the challenge data could be: an error
    naming the file, never a silently drawn or predicted record."""
    path = _mat(tmp_path, ecgdata=change(real_signal))
    with pytest.raises(BadInputError) as err:
        aiwin.read_record(path)
    assert str(path) in str(err.value) and problem in str(err.value)
    aiwin.write_record(tmp_path / "ok.mat", real_signal)  # the record itself is fine
    assert aiwin.read_record(tmp_path / "ok.mat").signal.shape == (12, 5000)


@pytest.mark.parametrize("name", ["x" * 240, "bad\nname", "a,b", "ünïcode", " lead", "-"])
def test_record_names_must_be_safe(tmp_path, signal, name):
    with pytest.raises(BadInputError, match="record name"):
        aiwin.check_name(name, tmp_path / "f.mat")
    assert aiwin.check_name("A_0689-x.1", tmp_path) == "A_0689-x.1"


def test_list_records_skips_hidden_and_takes_upper_case(tmp_path, signal):
    for name in ("B.mat", "A.MAT", ".A.mat.x1y2.tmp.mat", "notes.txt"):
        (tmp_path / name).write_bytes(b"")
    assert [p.name for p in aiwin.list_records(tmp_path)] == ["A.MAT", "B.mat"]


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("A1,٣", "plain digits"),
        ("A1,５", "plain digits"),
        ("A1,1_1", "plain digits"),
        ("A1,+3", "plain digits"),
        ("A1,13", "must be 1-12"),
        ("bad name,3", "record name"),
        ('"A\nB",3', "record name"),  # a quoted newline is not joined away
    ],
)
def test_task2_label_syntax(tmp_path, line, problem):
    path = tmp_path / "trainreference.csv"
    path.write_text(f"A0,1\n{line}\n", encoding="utf-8")
    with pytest.raises(BadInputError, match=problem):
        aiwin.read_labels(path, 2)


@pytest.mark.parametrize("encoding", ["utf-16", "latin-1"])
def test_label_file_encoding_is_a_clear_error(tmp_path, encoding):
    path = tmp_path / "trainreference.csv"
    path.write_text("name,tag\nRécord,1\n", encoding=encoding)
    with pytest.raises(BadInputError, match="not UTF-8 text"):
        aiwin.read_labels(path, 1)


def test_huge_csv_field_is_a_clear_error(tmp_path):
    path = tmp_path / "trainreference.csv"
    path.write_text('name,tag\n"' + "x" * 200_000 + '",1\n', encoding="utf-8")
    with pytest.raises(BadInputError, match="not a readable CSV"):
        aiwin.read_labels(path, 1)


def test_probs_csv_keeps_the_ranking_of_a_boosted_models_confident_probabilities(tmp_path):
    """A gradient-boosted model (the feature model's kind) gives confident negatives
    probabilities far under 1e-6; through probs.csv they keep their values and their
    order, so an AUC read back from the file is the model's own."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(0)
    x = rng.normal(size=(600, 4))
    y = (x[:, 0] + 0.5 * x[:, 1] + 0.5 * rng.normal(size=600) > 1.0).astype(int)
    model = HistGradientBoostingClassifier(max_iter=300, random_state=0).fit(x[:300], y[:300])
    p = model.predict_proba(x[300:])
    assert (p[:, 1] < 1e-6).sum() > 20  # the case: many confident negatives
    path = tmp_path / "probs.csv"
    aiwin.write_probs(path, [f"R{i}" for i in range(300)], p, task=1)
    _, back = aiwin.read_probs(path, task=1)
    np.testing.assert_allclose(back, p, rtol=1e-7, atol=0)
    assert roc_auc_score(y[300:], back[:, 1]) == roc_auc_score(y[300:], p[:, 1])

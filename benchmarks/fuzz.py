"""Fuzz the doors of the pipeline with bad inputs and count how each one ends.

Every case is an input that is wrong in one way (a MAT record, a label CSV, a probs
file, a config or option, a run folder), fed to the code a user would run: the CLIs'
``main()`` in-process (``process.py``, ``evaluate.py``, ``predict.py``, ``train.py``,
``ensemble.py``) or the reader behind them. Each outcome is one of:

- ``clear``: stopped with exit code 2 / ``BadInputError`` / ``ValueError`` whose message
  names the file or option;
- ``skipped``: with ``--skip-bad``, the record was left out and listed;
- ``silent``: the bad input was accepted (exit 0, or a record read as valid);
- ``traceback``: any other exception.

The real records come from the committed fixture set (tests/data/physionet). Prints one
line per failing case, the counts per class and outcome; last line: JSON.

    python benchmarks/fuzz.py [--out output/fuzz]
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import io
import json
import shutil
import sys
import tempfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import numpy as np
import scipy.io

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ecgplot import aiwin  # noqa: E402
from ecgplot.aiwin import BadInputError  # noqa: E402
from ecgplot.physionet import import_physionet  # noqa: E402

FIXTURE = ROOT / "tests" / "data" / "physionet"


def cli(script: str) -> Callable[[list[str]], int]:
    """``main()`` of a top-level script, called with ``argv``; returns the exit code."""
    spec = importlib.util.spec_from_file_location(script, ROOT / f"{script}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)

    def run(argv: list[str]) -> int:
        old = sys.argv
        sys.argv = [script, *argv]
        try:
            with (
                contextlib.redirect_stderr(io.StringIO()),
                contextlib.redirect_stdout(io.StringIO()),
            ):
                return module.main()
        except SystemExit as exc:  # argparse errors
            return int(exc.code or 0)
        finally:
            sys.argv = old

    return run


class Fuzz:
    def __init__(self):
        self.results: list[tuple[str, str, str]] = []  # (class, case, outcome)

    def case(self, klass: str, name: str, fn: Callable[[], object], skipped: bool = False):
        """Run one case. ``fn`` returns an exit code, a bool (accepted?) or raises."""
        try:
            value = fn()
        except (BadInputError, ValueError, FileNotFoundError) as exc:
            outcome = "clear" if str(exc) else "traceback"
        except Exception as exc:  # noqa: BLE001 - counting every unexpected failure
            outcome = "traceback"
            name = f"{name} ({type(exc).__name__}: {str(exc)[:80]})"
        else:
            if value == 2:
                outcome = "clear"
            elif skipped and value == "skipped":
                outcome = "skipped"
            else:
                outcome = "silent"
        self.results.append((klass, name, outcome))


def bad_signals(good: np.ndarray) -> dict[str, object]:
    """Record contents that must not be read as a valid (12, 5000) mV record."""
    cases: dict[str, object] = {}
    for shape in [
        (12, 4999),
        (12, 5001),
        (11, 5000),
        (13, 5000),
        (5000, 12),
        (12,),
        (0,),
        (2, 12, 5000),
        (12, 2500),
        (6, 10000),
        (1, 60000),
    ]:
        cases[f"shape {shape}"] = np.resize(good, shape)
    for dtype in ["int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "bool"]:
        cases[f"dtype {dtype}"] = (good * 1000).astype(dtype)
    cases["complex"] = good.astype(np.complex128)
    cases["strings"] = np.array([["x"] * 10] * 12)
    for lead in range(12):
        for pos in (0, 2500, 4999):
            for value in (np.nan, np.inf):
                x = good.copy()
                x[lead, pos] = value
                cases[f"{value} lead {lead} sample {pos}"] = x
    for pos in (0, 1234, 4999):
        for value in (1e39, -1e39, 1e300, 3.5e38):
            x = good.copy()
            x[0, pos] = value
            cases[f"{value:g} at {pos}"] = x
    for scale in (1e3, 1e6, 1e9, 1e-4, 1e-6, 1e-9, 0.0):
        cases[f"scaled x{scale:g}"] = good * scale
    for value in (0.7, -3.0, 12.0):
        cases[f"constant {value}"] = np.full_like(good, value)
    for spike in (50.0, 1e3, -80.0):
        x = good.copy()
        x[5, 100] = spike
        cases[f"spike {spike} mV"] = x
    return cases


def mat_bytes(**variables) -> bytes:
    buf = io.BytesIO()
    scipy.io.savemat(buf, variables)
    return buf.getvalue()


def fuzz_records(fz: Fuzz, tmp: Path, good_mat: Path, process_cli) -> None:
    good = aiwin.read_record(good_mat).signal.astype(np.float64)
    files: dict[str, bytes] = {name: mat_bytes(ecgdata=x) for name, x in bad_signals(good).items()}
    raw = good_mat.read_bytes()
    for n in (0, 1, 10, 100, 128, 200, 500, 1000, 5000, 50_000, len(raw) - 1):
        files[f"truncated at {n} bytes"] = raw[:n]
    rng = np.random.default_rng(0)
    for i in range(5):
        files[f"random bytes {i}"] = rng.integers(0, 256, 2000 + 1000 * i, np.uint8).tobytes()
    files["text file"] = b"name,tag\nA,1\n"
    files["HDF5 signature"] = b"\x89HDF\r\n\x1a\n" + b"\0" * 500
    for key in ("ECGdata", "data", "val", "ecg_data"):
        files[f"variable {key}"] = mat_bytes(**{key: good})
    files["no variables"] = mat_bytes()
    files["struct"] = mat_bytes(ecgdata={"x": good})
    files["cell"] = mat_bytes(ecgdata=np.array([good, good], dtype=object))
    for name, content in files.items():
        path = tmp / "rec" / "BAD.mat"
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(content)
        fz.case("MAT record", name, lambda p=path: bool(aiwin.read_record(p)))
    # through process.py with --skip-bad: the bad record is skipped and listed
    data = tmp / "data"
    for i, (name, content) in enumerate(list(files.items())[::6]):
        shutil.rmtree(data, ignore_errors=True)
        (data / "train").mkdir(parents=True)
        for _j, src in enumerate(sorted((good_mat.parent).glob("*.mat"))[:4]):
            shutil.copy(src, data / "train" / src.name)
        (data / "train" / "ZBAD.mat").write_bytes(content)
        names = sorted(p.stem for p in (data / "train").glob("*.mat"))
        aiwin.write_labels(data / "trainreference.csv", {n: [1] for n in names}, 2)
        out = tmp / f"proc{i}"

        def run(out=out):
            code = process_cli(
                [
                    "--data",
                    str(data),
                    "--out",
                    str(out),
                    "--size",
                    "64",
                    "--folds",
                    "2",
                    "--workers",
                    "1",
                    "--skip-bad",
                ]
            )
            listed = (out / "bad_records.csv").is_file() and "ZBAD" in (
                out / "bad_records.csv"
            ).read_text()
            return "skipped" if code == 0 and listed else code

        fz.case("process.py --skip-bad", name, run, skipped=True)
    # odd record names and files
    names = ["x" * 240, "bad name", "a,b", "ünï", "new\nline", "-lead", "semi;colon"]
    for name in names:
        folder = tmp / "names"
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir()
        try:
            path = folder / f"{name}.mat"
            path.write_bytes(raw)
        except OSError:
            continue
        fz.case("record name", repr(name)[:40], lambda p=path: bool(aiwin.read_record(p)))
    folder = tmp / "links"
    folder.mkdir()
    (folder / "DANGLING.mat").symlink_to(folder / "missing.mat")
    fz.case(
        "record file", "dangling symlink", lambda: bool(aiwin.read_record(folder / "DANGLING.mat"))
    )
    (folder / "DIR.mat").mkdir()
    fz.case(
        "record file", "directory named .mat", lambda: bool(aiwin.read_record(folder / "DIR.mat"))
    )


def fuzz_labels(fz: Fuzz, tmp: Path) -> None:
    task1 = {
        "tag 2": "name,tag\nA,2\n",
        "tag -1": "name,tag\nA,-1\n",
        "tag 1.0": "name,tag\nA,1.0\n",
        "tag one": "name,tag\nA,one\n",
        "tag empty": "name,tag\nA,\n",
        "tag arabic digit": "name,tag\nA,١\n",
        "tag fullwidth": "name,tag\nA,１\n",
        "three cells": "name,tag\nA,1,0\n",
        "no header": "A,1\nB,0\n",
        "header only": "name,tag\n",
        "empty": "",
        "blank lines": "\n\n\n",
        "duplicate name": "name,tag\nA,1\nA,0\n",
        "name with space": "name,tag\nA B,1\n",
        "unicode name": "name,tag\nÅ,1\n",
        "long name": "name,tag\n" + "x" * 300 + ",1\n",
        "empty name": "name,tag\n,1\n",
        "header tag,name": "tag,name\n1,A\n",
        "task-2 file": "A,1,2\nB,3\n",
    }
    task2 = {
        "id 0": "A,0\n",
        "id 13": "A,13\n",
        "id -1": "A,-1\n",
        "id 1.5": "A,1.5\n",
        "id x": "A,x\n",
        "arabic ٣": "A,٣\n",
        "fullwidth ５": "A,５\n",
        "1_1": "A,1_1\n",
        "+3": "A,+3\n",
        "no ids": "A\n",
        "empty id cells": "A,,\n",
        "header name,tag": "name,tag\nA,1\n",
        "duplicate": "A,1\nA,2\n",
        "name with comma quoted": '"A,B",1\n',
        "long name": "x" * 300 + ",1\n",
        "empty": "",
        "unicode name": "Ö,1\n",
        "newline in name": '"A\nB",1\n',
    }
    for task, cases in ((1, task1), (2, task2)):
        for name, text in cases.items():
            path = tmp / f"labels_t{task}.csv"
            path.write_text(text, encoding="utf-8")
            fz.case(
                f"task-{task} labels", name, lambda p=path, t=task: bool(aiwin.read_labels(p, t))
            )
    for encoding in ("utf-16", "utf-16-le", "latin-1", "cp1252", "utf-32"):
        path = tmp / "enc.csv"
        path.write_text("name,tag\nRécord,1\n", encoding=encoding)
        fz.case("label encoding", encoding, lambda p=path: bool(aiwin.read_labels(p, 1)))
    path = tmp / "huge.csv"
    path.write_text('name,tag\n"' + "x" * 200_000 + '",1\n')
    fz.case("label encoding", "huge field", lambda: bool(aiwin.read_labels(path, 1)))


def fuzz_probs(fz: Fuzz, tmp: Path, evaluate_cli) -> None:
    header = "name," + ",".join(f"p{i}" for i in range(1, 13))
    row = ",".join(["0.5"] * 12)
    labels = tmp / "truth.csv"
    labels.write_text("A,1\nB,3\n")
    cases = {
        "ragged row": f"{header}\nA,{row}\nB,0.5,0.5\n",
        "extra cell": f"{header}\nA,{row},0.1\nB,{row}\n",
        "non-numeric": f"{header}\nA,{row}\nB,{row.replace('0.5', 'x', 1)}\n",
        "NaN": f"{header}\nA,{row}\nB,{row.replace('0.5', 'nan', 1)}\n",
        "empty cell": f"{header}\nA,{row}\nB,{row.replace('0.5', '', 1)}\n",
        "above 1": f"{header}\nA,{row}\nB,{row.replace('0.5', '1.5', 1)}\n",
        "negative": f"{header}\nA,{row}\nB,{row.replace('0.5', '-0.1', 1)}\n",
        "inf": f"{header}\nA,{row}\nB,{row.replace('0.5', 'inf', 1)}\n",
        "header only": f"{header}\n",
        "empty file": "",
        "wrong header": "name," + ",".join(f"q{i}" for i in range(1, 13)) + f"\nA,{row}\n",
        "task-1 header": "name,p_normal,p_abnormal\nA,0.5,0.5\n",
        "duplicate rows": f"{header}\nA,{row}\nA,{row}\nB,{row}\n",
        "unknown record": f"{header}\nA,{row}\nZ,{row}\n",
        "no name column": ",".join(f"p{i}" for i in range(1, 13)) + f"\n{row}\n",
    }
    for name, text in cases.items():
        path = tmp / "probs.csv"
        path.write_text(text)
        fz.case(
            "probs.csv",
            name,
            lambda p=path: evaluate_cli(
                [
                    "--task",
                    "2",
                    "--labels",
                    str(labels),
                    "--probs",
                    str(p),
                    "--out",
                    str(tmp / "ev"),
                ]
            ),
        )
    path = tmp / "probs.csv"
    path.write_text(f"{header}\nA,{row}\nB,{row}\n", encoding="utf-16")
    fz.case(
        "probs.csv",
        "utf-16",
        lambda: evaluate_cli(
            ["--task", "2", "--labels", str(labels), "--probs", str(path), "--out", str(tmp / "ev")]
        ),
    )
    good = tmp / "good_probs.csv"
    good.write_text(f"{header}\nA,{row}\nB,{row}\n")
    answer = tmp / "answer.csv"
    answer.write_text("A,1\nA,2\nB,3\n")
    fz.case(
        "answer.csv",
        "duplicate answer rows",
        lambda: evaluate_cli(
            [
                "--task",
                "2",
                "--labels",
                str(labels),
                "--answer",
                str(answer),
                "--out",
                str(tmp / "ev"),
            ]
        ),
    )
    for option, value in (("--bootstrap", "-5"), ("--out", str(labels)), ("--task", "3")):
        fz.case(
            "evaluate option",
            f"{option} {value}",
            lambda o=option, v=value: evaluate_cli(
                [
                    "--task",
                    "2",
                    "--labels",
                    str(labels),
                    "--probs",
                    str(good),
                    "--out",
                    str(tmp / "ev"),
                    o,
                    v,
                ]
            ),
        )


def fuzz_configs(fz: Fuzz, tmp: Path) -> None:
    from ecgplot.experiment import load_experiment

    base = ROOT / "configs" / "cpu_rows12_task2.yaml"
    overrides = [
        "render.size=0",
        "render.size=7",
        "render.size=-1",
        "render.size=abc",
        "render.size=1e9",
        "render.grid=maybe",
        "render.mm_per_mv=0",
        "render.mm_per_mv=-1",
        "render.mm_per_s=-25",
        "render.highpass_hz=300",
        "render.lowpass_hz=0",
        "render.highpass_hz=40",
        "render.line_width=0",
        "render.layout=spiral",
        "render.rasterizer=svg",
        "render.stft.noverlap=300",
        "data.n_folds=0",
        "data.n_folds=1",
        "data.fold=x",
        "data.fold=-1",
        "data.task=3",
        "data.source=jpg",
        "optim.lr=-1",
        "optim.lr=0",
        "optim.name=sgd",
        "optim.decay=step",
        "train.epochs=0",
        "train.batch_size=0",
        "train.device=tpu",
        "train.monitor=macro_aucc",
        "train.monitor=auc",
        "model.arch=vgg",
        "model.freeze_stages=6",
        "model.dropout=1.5",
        "model.kind=gbm",
        "loss.name=focal",
        "loss.pos_weight=-2",
        "image_aug.erase_p=2",
        "features.max_iter=0",
        "features.class_weight=heavy",
        "train.unknown=1",
        "nosuchsection.x=1",
        "=3",
        "data",
        "image_aug.enabled=true",  # with train.cache_trunk
    ]
    for override in overrides:
        fz.case(
            "config override",
            override,
            lambda o=override: bool(
                load_experiment(base, ["render.lowpass_hz=30", o] if "highpass_hz=40" in o else [o])
            ),
        )
    yamls = {
        "tab indent": "data:\n\troot: x\n",
        "unclosed bracket": "data: [1, 2\n",
        "top-level list": "- 1\n- 2\n",
        "scalar": "42\n",
        "duplicate colon": "a: b: c\n",
        "binary": "\x00\x01\x02",
        "unknown top key": "colour: red\n",
        "section not a mapping": "data: 3\n",
    }
    for name, text in yamls.items():
        path = tmp / "bad.yaml"
        path.write_text(text, encoding="utf-8")
        fz.case("config file", name, lambda p=path: bool(load_experiment(p)))


def fuzz_runs(fz: Fuzz, tmp: Path, data: Path, predict_cli, train_cli, ensemble_cli) -> None:
    """A small feature-model run, then broken copies of it through predict.py."""
    run = tmp / "runs" / "feat"
    code = train_cli(
        [
            "--config",
            str(ROOT / "configs" / "features_task2.yaml"),
            f"data.root={data}",
            f"output_dir={tmp / 'runs'}",
            "name=feat",
            "data.n_folds=3",
            "features.max_iter=10",
            "features.min_samples_leaf=3",
        ]
    )
    assert code == 0, "the fuzz's own run failed"
    records = data / "train"

    def broken(name: str, change: Callable[[Path], None], extra: tuple[str, ...] = ()):
        copy = tmp / "runs" / f"broken_{abs(hash(name))}"
        shutil.rmtree(copy, ignore_errors=True)
        shutil.copytree(run, copy)
        change(copy)
        out = tmp / "answers" / f"{abs(hash(name))}" / "answer.csv"
        fz.case(
            "run folder",
            name,
            lambda: predict_cli(
                ["--run", str(copy), "--data", str(records), "--out", str(out), *extra]
            ),
        )

    broken("no config.yaml", lambda r: (r / "config.yaml").unlink())
    broken(
        "config unknown key",
        lambda r: (r / "config.yaml").write_text((r / "config.yaml").read_text() + "colour: red\n"),
    )
    broken("config bad yaml", lambda r: (r / "config.yaml").write_text("data: [\n"))
    broken("no summary.json", lambda r: (r / "summary.json").unlink())
    broken("summary not json", lambda r: (r / "summary.json").write_text("{"))
    broken("summary no folds", lambda r: (r / "summary.json").write_text('{"folds": {}}'))
    broken(
        "summary lists fold 7", lambda r: (r / "summary.json").write_text('{"folds": {"7": {}}}')
    )
    broken("checkpoint missing", lambda r: (r / "fold1" / "model.joblib").unlink())
    broken(
        "checkpoint truncated",
        lambda r: (r / "fold0" / "model.joblib").write_bytes(
            (r / "fold0" / "model.joblib").read_bytes()[:100]
        ),
    )
    broken(
        "checkpoint foreign pickle",
        lambda r: (r / "fold0" / "model.joblib").write_bytes(__import__("pickle").dumps({"a": 1})),
    )
    broken(
        "thresholds wrong length",
        lambda r: (r / "thresholds.json").write_text('{"thresholds": [0.5]}'),
    )
    broken("thresholds corrupt", lambda r: (r / "thresholds.json").write_text("[[["))
    broken(
        "thresholds strings",
        lambda r: (r / "thresholds.json").write_text(
            '{"thresholds": ' + json.dumps(["x"] * 12) + "}"
        ),
    )
    broken("--tta -1", lambda r: None, ("--tta", "-1"))
    broken("--out is a directory", lambda r: None)  # replaced below
    fz.results.pop()
    out_dir = tmp / "answers" / "isdir"
    out_dir.mkdir(parents=True)
    fz.case(
        "run folder",
        "--out is a directory",
        lambda: predict_cli(["--run", str(run), "--data", str(records), "--out", str(out_dir)]),
    )
    broken("--gradcam on a feature run", lambda r: None, ("--gradcam", "00001_hr"))
    broken("--backend onnx on a feature run", lambda r: None, ("--backend", "onnx"))
    fz.case(
        "run folder",
        "not a run",
        lambda: predict_cli(
            ["--run", str(tmp), "--data", str(records), "--out", str(tmp / "a.csv")]
        ),
    )
    fz.case(
        "run folder",
        "--data is a file",
        lambda: predict_cli(
            [
                "--run",
                str(run),
                "--data",
                str(records / "00001_hr.mat"),
                "--out",
                str(tmp / "b.csv"),
            ]
        ),
    )
    empty = tmp / "emptydir"
    empty.mkdir()
    fz.case(
        "run folder",
        "--data has no records",
        lambda: predict_cli(["--run", str(run), "--data", str(empty), "--out", str(tmp / "c.csv")]),
    )
    # ensemble.py: mismatched members
    other = tmp / "runs" / "other"
    train_cli(
        [
            "--config",
            str(ROOT / "configs" / "features_task2.yaml"),
            f"data.root={data}",
            f"output_dir={tmp / 'runs'}",
            "name=other",
            "data.n_folds=3",
            "data.split_seed=5",
            "features.max_iter=5",
            "features.min_samples_leaf=3",
        ]
    )
    fz.case(
        "ensemble.py",
        "folds differ",
        lambda: ensemble_cli(
            ["--runs", str(run), str(other), "--out", str(tmp / "ens" / "answer.csv")]
        ),
    )
    fz.case(
        "ensemble.py",
        "one member",
        lambda: ensemble_cli(["--runs", str(run), "--out", str(tmp / "ens" / "answer.csv")]),
    )
    short = tmp / "short.csv"
    short.write_text("\n".join((run / "oof_probs.csv").read_text().splitlines()[:-2]) + "\n")
    fz.case(
        "ensemble.py",
        "external probs missing records",
        lambda: ensemble_cli(
            [
                "--runs",
                str(run),
                "--probs",
                str(short),
                str(short),
                "--out",
                str(tmp / "ens" / "answer.csv"),
            ]
        ),
    )
    fz.case(
        "ensemble.py",
        "--out is a directory",
        lambda: ensemble_cli(["--runs", str(run), str(run), "--out", str(tmp)]),
    )
    # train.py options
    for override in ("data.n_folds=30", "data.fold=9", "train.monitor=typo", "data.root=/nowhere"):
        fz.case(
            "train.py",
            override,
            lambda o=override: train_cli(
                [
                    "--config",
                    str(ROOT / "configs" / "features_task2.yaml"),
                    f"data.root={data}",
                    f"output_dir={tmp / 'runs'}",
                    "name=t",
                    o,
                ]
            ),
        )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--out", type=Path, default=ROOT / "output" / "fuzz")
    p.parse_args()
    fz = Fuzz()
    process_cli, evaluate_cli = cli("process"), cli("evaluate")
    predict_cli, train_cli, ensemble_cli = cli("predict"), cli("train"), cli("ensemble")
    with tempfile.TemporaryDirectory() as tmp_str:
        tmp = Path(tmp_str)
        data = tmp / "fixture_t2"
        import_physionet(FIXTURE, data, task=2)
        fuzz_records(fz, tmp, data / "train" / "00001_hr.mat", process_cli)
        fuzz_labels(fz, tmp)
        fuzz_probs(fz, tmp, evaluate_cli)
        fuzz_configs(fz, tmp)
        fuzz_runs(fz, tmp, data, predict_cli, train_cli, ensemble_cli)
    counts = Counter(outcome for _, _, outcome in fz.results)
    per_class = Counter((klass, outcome) for klass, _, outcome in fz.results)
    for klass, name, outcome in fz.results:
        if outcome in ("silent", "traceback"):
            print(f"{outcome:9s} {klass}: {name}")
    for klass in sorted({k for k, _, _ in fz.results}):
        row = ", ".join(
            f"{o} {per_class[(klass, o)]}"
            for o in ("clear", "skipped", "silent", "traceback")
            if per_class[(klass, o)]
        )
        print(f"{klass:24s} {row}")
    figures = {
        "cases": len(fz.results),
        **{o: counts[o] for o in ("clear", "skipped", "silent", "traceback")},
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()

"""Atomic writes: all or nothing, and ordinary file permissions."""

from __future__ import annotations

import os

import pytest

from ecgplot.atomic import atomic_path, atomic_write


def test_failed_write_keeps_old_file_and_leaves_no_temp(tmp_path):
    path = tmp_path / "answer.csv"
    path.write_text("old\n")
    with pytest.raises(RuntimeError), atomic_write(path) as fh:
        fh.write("half")
        raise RuntimeError("crash mid-write")
    assert path.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["answer.csv"]


def test_written_files_get_umask_permissions_and_keep_the_suffix(tmp_path):
    old = os.umask(0o022)
    try:
        with atomic_path(tmp_path / "curves.png") as tmp:
            assert tmp.suffix == ".png"  # writers that pick the format from the name
            tmp.write_bytes(b"x")
    finally:
        os.umask(old)
    assert (tmp_path / "curves.png").stat().st_mode & 0o777 == 0o644

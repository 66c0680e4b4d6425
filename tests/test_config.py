"""Config loading: YAML, key=value overrides, strict dataclass conversion."""

from __future__ import annotations

import pytest

from ecgplot.config import apply_overrides, dump_yaml, from_dict, load_yaml, to_dict
from ecgplot.experiment import load_experiment
from ecgplot.render import RenderConfig

from .conftest import ROOT


def test_overrides_and_nested_dataclasses(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("render:\n  layout: grid3x4\n  stft:\n    fmax_hz: 40\n")
    cfg = apply_overrides(load_yaml(path), ["render.mm_per_mv=10", "render.stft.db_min=-90"])
    render = from_dict(RenderConfig, cfg["render"])
    assert render.layout == "grid3x4" and render.mm_per_mv == 10
    assert render.stft.fmax_hz == 40 and render.stft.db_min == -90
    assert from_dict(RenderConfig, load_yaml_text(tmp_path, dump_yaml(to_dict(render)))) == render


def load_yaml_text(tmp_path, text):
    path = tmp_path / "round.yaml"
    path.write_text(text)
    return load_yaml(path)


def test_unknown_keys_and_bad_overrides_are_errors(tmp_path):
    with pytest.raises(ValueError, match=r"unknown config keys: render.stft.fmax"):
        from_dict(RenderConfig, {"stft": {"fmax": 3}}, "render.")
    with pytest.raises(ValueError, match=r"section render: unknown rasterizer 'svg'"):
        from_dict(RenderConfig, {"rasterizer": "svg"}, "render.")
    with pytest.raises(ValueError, match="not of the form key=value"):
        apply_overrides({}, ["layout"])
    path = tmp_path / "list.yaml"
    path.write_text("- a\n- b\n")
    with pytest.raises(ValueError, match="top level must be a mapping"):
        load_yaml(path)


def test_every_shipped_config_loads():

    from .conftest import ROOT

    configs = sorted((ROOT / "configs").glob("*.yaml"))
    assert len(configs) >= 7
    for path in configs:
        cfg = load_experiment(path)
        assert cfg.name == path.stem
    small = load_experiment(ROOT / "configs" / "cpu_small_task1.yaml")
    assert (small.data.task, small.render.size, small.model.pretrained) == (1, 384, "imagenet")
    assert small.train.cache_trunk and small.model.freeze_stages == small.model.stages == 4
    assert (small.model.head, small.train.keep) == ("rows", "last")
    full = load_experiment(ROOT / "configs" / "task2_resnet50_640_stft.yaml", ["optim.lr=0.01"])
    assert full.render.size == 640 and full.data.stft and full.optim.lr == 0.01
    with pytest.raises(ValueError, match="'macro_auc' is not a task-1 validation metric"):
        load_experiment(ROOT / "configs" / "cpu_small_task2.yaml", ["data.task=1"])
    with pytest.raises(ValueError, match="train.cache_trunk with augmentation needs train.cach"):
        load_experiment(ROOT / "configs" / "cpu_small_task2.yaml", ["image_aug.enabled=true"])
    with pytest.raises(ValueError, match="render.color was removed: pictures are now digitised"):
        load_experiment(ROOT / "configs" / "task2_resnet50_640.yaml", ["render.color=true"])
    with pytest.raises(ValueError, match="model.kind must be one of"):
        load_experiment(ROOT / "configs" / "features_task2.yaml", ["model.kind=gbm"])
    with pytest.raises(ValueError, match="signal_aug.enabled needs data.source: signal"):
        load_experiment(ROOT / "configs" / "task2_resnet50_640.yaml", ["signal_aug.enabled=true"])


def test_train_print_config_prints_the_merged_config_that_loads_back(tmp_path):
    """``train.py --print-config``: base configs and overrides merged, as YAML that
    builds the same experiment again; nothing is trained or written."""
    import subprocess
    import sys

    import yaml

    cmd = [
        sys.executable,
        str(ROOT / "train.py"),
        "--config",
        str(ROOT / "configs" / "cpu_small_task1.yaml"),
    ]
    out = subprocess.run(
        [*cmd, "train.epochs=3", f"output_dir={tmp_path}", "--print-config"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert out.returncode == 0, out.stderr[-500:]
    printed = yaml.safe_load(out.stdout)
    assert printed["train"]["epochs"] == 3 and printed["data"]["task"] == 1  # override, base
    saved = tmp_path / "printed.yaml"
    saved.write_text(out.stdout)
    again = load_experiment(saved)
    assert again.train.epochs == 3 and again.model.head == printed["model"]["head"]
    assert not list(tmp_path.glob("cpu_small_task1*"))


def test_a_saved_run_is_checked_by_the_same_rules(tmp_path):
    """A run folder's config.yaml goes through every cross-section rule, as a YAML does:
    an edited one that breaks a rule is refused naming the file."""
    import yaml

    from ecgplot.aiwin import BadInputError
    from ecgplot.config import to_dict
    from ecgplot.infer import load_run

    from .conftest import ROOT

    saved = to_dict(load_experiment(ROOT / "configs" / "cpu_small_task1.yaml"))
    saved["loss"]["name"] = "bce"  # task 1 is single-label
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(saved))
    with pytest.raises(BadInputError, match=r"config.yaml.*loss.name bce does not fit task 1"):
        load_run(tmp_path)


def test_runs_saved_with_the_retired_picture_options_still_load(tmp_path):
    """Runs saved before pictures went through the digitiser hold photo_aug and
    render.color/paper: left off they are dropped (the run is the same run); a run that
    used them is refused, naming the file and the option."""
    from ecgplot.aiwin import BadInputError
    from ecgplot.experiment import finished_run
    from ecgplot.infer import load_run

    from .conftest import ROOT

    args = [f"output_dir={tmp_path}", "name=old", "data.fold=all"]
    cfg = load_experiment(ROOT / "configs" / "cpu_small_task1.yaml", args)
    cfg.run_dir.mkdir()
    saved = to_dict(cfg)
    saved["photo_aug"] = {"enabled": False, "rotate_deg": 4.0, "jpeg_quality": [35, 90]}
    saved["render"].update(color=False, paper="gray")
    (cfg.run_dir / "config.yaml").write_text(dump_yaml(saved))
    (cfg.run_dir / "oof_probs.csv").write_text("name,p_normal,p_abnormal\n")
    assert finished_run(cfg)
    saved["photo_aug"]["enabled"] = True
    (cfg.run_dir / "config.yaml").write_text(dump_yaml(saved))
    assert not finished_run(cfg)
    with pytest.raises(BadInputError, match=r"old/config.yaml.*photo_aug.enabled was removed"):
        load_run(cfg.run_dir)


def test_a_finished_run_is_recognised_only_for_its_own_config(tmp_path):
    """Benchmarks reuse a run folder only when its saved config, read back with today's
    defaults (options added since), equals the one asked for and its OOF table exists."""
    from ecgplot.experiment import finished_run

    args = [f"output_dir={tmp_path}", "name=run", "data.fold=all"]
    cfg = load_experiment(ROOT / "configs" / "cpu_small_task1.yaml", args)
    cfg.run_dir.mkdir()
    saved = to_dict(cfg)
    saved.pop("print_aug")  # saved before print_aug existed: it reads back as p 0
    (cfg.run_dir / "config.yaml").write_text(dump_yaml(saved))
    assert not finished_run(cfg)  # no out-of-fold table yet
    (cfg.run_dir / "oof_probs.csv").write_text("name,p_normal,p_abnormal\n")
    assert not finished_run(cfg)  # the recipe is print-aware now: p 0.5 is not 0
    plain = load_experiment(ROOT / "configs" / "cpu_small_task1.yaml", [*args, "print_aug.p=0"])
    assert finished_run(plain)
    other = load_experiment(ROOT / "configs" / "cpu_small_task1.yaml", [*args, "train.epochs=3"])
    assert not finished_run(other)
    elsewhere = [*args, "print_aug.p=0", f"train.cache_dir={tmp_path / 'cache'}"]
    moved = load_experiment(ROOT / "configs" / "cpu_small_task1.yaml", elsewhere)
    assert finished_run(moved)  # the same run from another checkout: its cache elsewhere

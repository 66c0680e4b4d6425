"""The experiment config tree: one YAML per experiment, every option in it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .config import apply_overrides, from_dict, load_yaml
from .render import RenderConfig


@dataclass(frozen=True)
class DataConfig:
    """Where records, labels and rendered images are, and how to split them."""

    root: str = "dataset/demo/task2"  # AIWIN folder: trainreference.csv + train/
    processed: str | None = None  # process.py output (images/, folds.csv); None: render live
    task: int = 2
    fold: int | str = 0  # validation fold k, or "all" for k-fold with out-of-fold predictions
    n_folds: int = 5
    split_seed: int = 42
    source: str = "png"  # "png": process.py images; "signal": render from MAT on the fly
    stft: bool = False  # second stream: STFT image
    num_workers: int = 0
    limit: int | None = None  # use only the first N training records (smoke tests)


MODEL_KINDS = ("image", "features")
TASK_METRICS = {1: ("f1", "accuracy", "auc"), 2: ("macro_f1", "micro_f1", "macro_auc")}


@dataclass(frozen=True)
class ModelConfig:
    kind: str = "image"  # image: ResNet on rendered plots; features: signal-feature model
    arch: str = "resnet50"  # resnet18/34/50/101/152 from paddle.vision
    pretrained: str | None = "imagenet"  # "imagenet", a .pdparams path, or None
    freeze_stages: int = 0  # 0: train all; 1: stem; 2: + layer1; ... 5: whole backbone
    freeze_bn: bool = False  # BatchNorm keeps its pretrained statistics (eval mode) in training
    dropout: float = 0.0
    fusion: str = "concat"  # two-stream fusion of plot and STFT features
    shared_backbone: bool = False  # one backbone for both streams

    def __post_init__(self) -> None:
        if self.kind not in MODEL_KINDS:
            raise ValueError(f"model.kind must be one of {MODEL_KINDS}, got {self.kind!r}")


@dataclass(frozen=True)
class FeatureModelConfig:
    """The signal-feature model (``model.kind: features``): scikit-learn
    HistGradientBoosting, one binary model per class, on ``ecgplot.features``."""

    max_iter: int = 300
    learning_rate: float = 0.05
    max_leaf_nodes: int = 31
    min_samples_leaf: int = 20
    l2_regularization: float = 0.0
    class_weight: str | None = None  # None or "balanced"


@dataclass(frozen=True)
class OptimConfig:
    name: str = "adamw"  # adamw | momentum
    lr: float = 0.001
    weight_decay: float = 0.0001
    momentum: float = 0.9
    warmup_epochs: float = 1.0
    decay: str = "cosine"  # cosine | poly
    poly_power: float = 0.9
    min_lr: float = 0.0
    grad_clip: float | None = None


@dataclass(frozen=True)
class LossConfig:
    name: str = "auto"  # auto (task 1: ce, task 2: bce) | ce | bce | asl
    pos_weight: str | float | None = None  # task 2 bce: None, "auto" (neg/pos), or a number
    label_smoothing: float = 0.0
    asl_gamma_neg: float = 4.0
    asl_gamma_pos: float = 0.0
    asl_clip: float = 0.05


@dataclass(frozen=True)
class ImageAugConfig:
    """albumentations suited to ECG plots: no flips or rotations (they change meaning)."""

    enabled: bool = True
    shift: float = 0.02  # fraction of the image
    scale: float = 0.05
    blur_p: float = 0.2
    brightness_contrast_p: float = 0.3
    erase_p: float = 0.2


@dataclass(frozen=True)
class SignalAugConfig:
    """Signal-level augmentation before rendering (needs data.source: signal)."""

    enabled: bool = False
    amplitude: float = 0.1  # +- relative gain per record
    baseline_mv: float = 0.1  # amplitude of added baseline wander
    noise_mv: float = 0.02
    max_shift_s: float = 1.0  # circular time shift
    lead_dropout_p: float = 0.0  # probability to zero each lead


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = 30
    batch_size: int = 16
    eval_batch_size: int = 32
    seed: int = 42
    device: str = "auto"  # auto | cpu | gpu
    amp: bool = True  # mixed precision, GPU only
    cpu_threads: int = 0  # 0: all cores
    onednn: bool = False  # oneDNN kernels in dygraph: no gain measured on 2 cores
    early_stop: int | None = None  # epochs without improvement before stopping
    monitor: str = "auto"  # auto (task 1: f1, task 2: macro_f1) or a metric name
    log_interval: int = 10  # steps between log lines
    max_steps_per_epoch: int | None = None  # smoke runs
    cache_trunk: bool = False  # compute the frozen stages once per image, train the rest
    cache_dir: str | None = "output/cache"  # where cached trunk maps are kept (None: memory)


@dataclass(frozen=True)
class ExperimentConfig:
    name: str = "experiment"
    output_dir: str = "output"
    data: DataConfig = field(default_factory=DataConfig)
    render: RenderConfig = field(default_factory=RenderConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    features: FeatureModelConfig = field(default_factory=FeatureModelConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    image_aug: ImageAugConfig = field(default_factory=ImageAugConfig)
    signal_aug: SignalAugConfig = field(default_factory=SignalAugConfig)
    train: TrainConfig = field(default_factory=TrainConfig)

    @property
    def run_dir(self) -> Path:
        return Path(self.output_dir) / self.name

    @property
    def num_classes(self) -> int:
        return 2 if self.data.task == 1 else 12


def load_experiment(path: str | Path | None, overrides: list[str] = ()) -> ExperimentConfig:
    """Load an experiment YAML (optional ``base:`` file it extends) plus overrides."""
    data = _load_with_base(Path(path)) if path else {}
    cfg = from_dict(ExperimentConfig, apply_overrides(data, overrides))
    if cfg.data.task not in (1, 2):
        raise ValueError(f"data.task must be 1 or 2, got {cfg.data.task!r}")
    if cfg.signal_aug.enabled and cfg.data.source != "signal":
        raise ValueError("signal_aug.enabled needs data.source: signal (render on the fly)")
    monitors = ("auto", *TASK_METRICS[cfg.data.task])
    if cfg.train.monitor not in monitors:
        raise ValueError(
            f"train.monitor {cfg.train.monitor!r} is not a task-{cfg.data.task} validation "
            f"metric; choose from {', '.join(monitors)}"
        )
    if cfg.train.cache_trunk:
        if cfg.image_aug.enabled or cfg.signal_aug.enabled or cfg.data.stft:
            raise ValueError(
                "train.cache_trunk needs fixed single-stream images: disable image_aug, "
                "signal_aug and data.stft"
            )
        if not 1 <= cfg.model.freeze_stages <= 5:
            raise ValueError("train.cache_trunk needs model.freeze_stages 1-5 (the trunk)")
    return cfg


def _load_with_base(path: Path) -> dict:
    data = load_yaml(path)
    base = data.pop("base", None)
    if base is None:
        return data
    merged = _load_with_base(path.parent / base)
    _deep_update(merged, data)
    return merged


def _deep_update(dst: dict, src: dict) -> None:
    for key, value in src.items():
        if isinstance(value, dict) and isinstance(dst.get(key), dict):
            _deep_update(dst[key], value)
        else:
            dst[key] = value

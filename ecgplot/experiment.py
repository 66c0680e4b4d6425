"""The experiment config tree: one YAML per experiment, every option in it."""

from __future__ import annotations

from dataclasses import field
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field

from .config import apply_overrides, from_dict, load_yaml, section, to_dict
from .kinds import get_kind
from .render import RenderConfig

NonNeg = Annotated[int, Field(ge=0)]
Positive = Annotated[int, Field(ge=1)]
PositiveFloat = Annotated[float, Field(gt=0)]
NonNegFloat = Annotated[float, Field(ge=0)]
Probability = Annotated[float, Field(ge=0, le=1)]
PrintLayout = Literal["3x4", "6x2", "12x1"]


@section
class DataConfig:
    """Where records, labels and rendered images are, and how to split them."""

    root: str = "dataset/demo/task2"  # AIWIN folder: trainreference.csv + train/
    processed: str | None = None  # process.py output (images/, folds.csv); None: render live
    task: Literal[1, 2] = 2
    fold: NonNeg | Literal["all"] = (
        0  # validation fold k, or "all" for k-fold with out-of-fold predictions
    )
    n_folds: Annotated[int, Field(ge=2)] = 5
    split_seed: int = 42
    source: Literal["png", "signal"] = (
        "png"  # "png": process.py images; "signal": render from MAT on the fly
    )
    stft: bool = False  # second stream: STFT image
    num_workers: NonNeg = 0
    limit: Positive | None = None  # use only the first N training records (smoke tests)


TASK_METRICS = {1: ("f1", "accuracy", "auc"), 2: ("macro_f1", "micro_f1", "macro_auc")}


@section
class ModelConfig:
    kind: str = "image"  # image: ResNet on rendered plots; features: signal-feature model;
    # signal1d: 1-D SE-ResNet on the signal (the signal1d section)
    arch: Literal["resnet18", "resnet34", "resnet50", "resnet101", "resnet152"] = (
        "resnet50"  # resnet18/34/50/101/152 from paddle.vision
    )
    pretrained: str | None = "imagenet"  # "imagenet", a .pdparams path, or None
    freeze_stages: Annotated[int, Field(ge=0, le=5)] = (
        0  # 0: train all; 1: stem; 2: + layer1; ... 5: whole backbone
    )
    stages: Annotated[int, Field(ge=2, le=5)] = (
        5  # backbone stages run: 5 through layer4; 4 stops after layer3 (finer maps)
    )
    freeze_bn: bool = False  # BatchNorm keeps its pretrained statistics (eval mode) in training
    head: Literal["gap", "rows"] = (
        "gap"  # gap: global average pool + linear; rows: pool over time per row band
    )
    head_channels: Positive = 64  # rows head: 1x1 conv reduction before pooling
    head_rows: Positive = 12  # rows head: horizontal bands kept (12: one per rows12 lead)
    head_bins: Positive = 1  # rows head: stretches of time pooled apart (1: the whole width)
    head_kernel: Positive = 1  # rows head: time width of the reduction conv (odd; 1: 1x1)
    head_time_kernel: NonNeg = 0  # rows head: a time conv (odd width) after the reduction; 0: none
    head_pools: tuple[Literal["avg", "max", "std"], ...] = (
        "avg",
        "max",
    )  # rows head: statistics over time within each band
    dropout: Annotated[float, Field(ge=0, lt=1)] = 0.0
    fusion: Literal["concat", "sum"] = "concat"  # two-stream fusion of plot and STFT features
    shared_backbone: bool = False  # one backbone for both streams

    def __post_init__(self) -> None:
        get_kind(self.kind)  # a known kind (ValueError naming them)
        if self.head_time_kernel and self.head_time_kernel % 2 == 0:
            raise ValueError(f"model.head_time_kernel must be odd, got {self.head_time_kernel}")
        if self.head_kernel % 2 == 0:
            raise ValueError(f"model.head_kernel must be odd, got {self.head_kernel}")
        if not self.head_pools or len(set(self.head_pools)) != len(self.head_pools):
            raise ValueError(f"model.head_pools needs distinct statistics, got {self.head_pools}")
        if self.freeze_stages > self.stages:
            raise ValueError(
                f"model.freeze_stages ({self.freeze_stages}) exceeds model.stages ({self.stages})"
            )


@section
class FeatureModelConfig:
    """The signal-feature model (``model.kind: features``): scikit-learn
    HistGradientBoosting, one binary model per class, on ``ecgplot.features``."""

    max_iter: Positive = 300
    learning_rate: PositiveFloat = 0.05
    max_leaf_nodes: Annotated[int, Field(ge=2)] = 31
    min_samples_leaf: Positive = 20
    l2_regularization: NonNegFloat = 0.0
    class_weight: Literal["balanced"] | None = None  # None or "balanced"
    # print-aware: every training record once more as a print in this layout (or in each
    # of these layouts) shows it (3x4: 2.5 s of each lead, 10 s of lead II), so one model
    # serves MAT records and pictures
    print_copies: PrintLayout | list[PrintLayout] | None = None
    # the print copies also carry the digitiser's errors (augment.DigitiserErrors)
    print_errors: bool = False


@section
class Signal1DConfig:
    """The 1-D SE-ResNet (``model.kind: signal1d``) and how it reads a record."""

    input_hz: Literal[125, 250, 500] = 250  # the record resampled to this rate
    highpass_hz: NonNegFloat | None = 0.5  # band-pass before resampling (None: no side)
    lowpass_hz: PositiveFloat | None = 45.0
    width: Positive = 16  # channels of the first stage (each later stage doubles, to 8x)
    blocks: tuple[Positive, ...] = (2, 2, 2, 2)  # SE basic blocks per stage
    kernel: Annotated[int, Field(ge=3)] = 7  # odd
    se_reduction: Positive = 8
    window_s: PositiveFloat = 10.0  # longer records: overlapping windows, max over them
    overlap_s: NonNegFloat = 2.0

    def __post_init__(self) -> None:
        if self.kernel % 2 == 0:
            raise ValueError(f"signal1d.kernel must be odd, got {self.kernel}")
        if self.overlap_s >= self.window_s:
            raise ValueError("signal1d.overlap_s must be shorter than signal1d.window_s")
        if self.lowpass_hz and self.lowpass_hz >= self.input_hz / 2:
            raise ValueError(
                f"signal1d.lowpass_hz {self.lowpass_hz} must be under half of input_hz "
                f"{self.input_hz} (the rate it is resampled to)"
            )


@section
class OptimConfig:
    name: Literal["adamw", "momentum"] = "adamw"
    lr: PositiveFloat = 0.001
    weight_decay: NonNegFloat = 0.0001
    momentum: Probability = 0.9
    warmup_epochs: NonNegFloat = 1.0
    decay: Literal["cosine", "poly"] = "cosine"
    poly_power: PositiveFloat = 0.9
    min_lr: NonNegFloat = 0.0
    grad_clip: PositiveFloat | None = None


@section
class LossConfig:
    name: Literal["auto", "ce", "bce", "asl"] = "auto"  # auto: task 1 ce, task 2 bce
    pos_weight: Literal["auto"] | PositiveFloat | None = None  # task 2 bce: "auto" neg/pos
    label_smoothing: Annotated[float, Field(ge=0, lt=1)] = 0.0
    asl_gamma_neg: NonNegFloat = 4.0
    asl_gamma_pos: NonNegFloat = 0.0
    asl_clip: Annotated[float, Field(ge=0, lt=1)] = 0.05


@section
class ImageAugConfig:
    """albumentations suited to ECG plots: no flips or rotations (they change meaning)."""

    enabled: bool = True
    shift: Annotated[float, Field(ge=0, le=0.5)] = 0.02  # fraction of the image
    scale: Annotated[float, Field(ge=0, le=0.5)] = 0.05
    blur_p: Probability = 0.2
    brightness_contrast_p: Probability = 0.3
    erase_p: Probability = 0.2


@section
class SignalAugConfig:
    """Signal-level augmentation before rendering (needs data.source: signal)."""

    enabled: bool = False
    amplitude: Annotated[float, Field(ge=0, lt=1)] = 0.1  # +- relative gain per record
    baseline_mv: NonNegFloat = 0.1  # amplitude of added baseline wander
    noise_mv: NonNegFloat = 0.02
    max_shift_s: Annotated[float, Field(ge=0, le=10)] = 1.0  # circular time shift
    lead_dropout_p: Probability = 0.0  # probability to zero each lead


@section
class PrintAugConfig:
    """Print-aware training: each epoch a share of the training records is shown as a
    print in ``layout`` shows them (3x4: 2.5 s of each lead at its column's time, 10 s of
    lead II; the rest missing), drawn per record and epoch, so one run serves MAT records
    and digitised pictures; with a list of layouts each such sample draws one, and with
    ``errors`` the print also carries the digitiser's errors. Image runs (beat
    renderings from what is shown, R peaks from the longest lead present; a cached trunk
    keeps each record's print in every layout listed) and 1-D runs;
    the feature model has ``features.print_copies`` and ``features.print_errors``."""

    p: Probability = 0.0  # share of training samples shown as a print (0: off)
    # the print's layout, or a list: each sample shown as a print draws one of them
    layout: PrintLayout | list[PrintLayout] = "3x4"
    errors: bool = False  # the prints carry the digitiser's errors (augment.DigitiserErrors)


@section
class TrainConfig:
    epochs: Positive = 30
    batch_size: Positive = 16
    eval_batch_size: Positive = 32
    seed: NonNeg = 42
    device: Literal["auto", "cpu", "gpu"] = "auto"
    amp: bool = True  # mixed precision, GPU only
    cpu_threads: NonNeg = 0  # 0: all cores
    onednn: bool = False  # oneDNN kernels in dygraph: no gain measured on 2 cores
    early_stop: Positive | None = None  # epochs without improvement before stopping
    monitor: str = "auto"  # auto (task 1: f1, task 2: macro_f1) or a metric name
    keep: Literal["best", "last"] = (
        "best"  # the fold's model: best epoch on the monitor, or the last (unbiased OOF)
    )
    log_interval: Positive = 10  # steps between log lines
    max_steps_per_epoch: Positive | None = None  # smoke runs
    cache_trunk: bool = False  # compute the frozen stages once per image, train the rest
    cache_dir: str | None = "output/cache"  # where cached trunk maps are kept (None: memory)
    # what runs the frozen trunk for cached maps and prediction: its graph in Paddle
    # Inference (oneDNN on the CPU; same maps, several times faster) or the eager model
    trunk_backend: Literal["inference", "eager"] = "inference"
    # with cache_trunk and augmentation: K fixed augmented copies cached per record; epoch
    # e trains on copy e mod K (0: no augmentation with a cached trunk). "views" are only
    # the extra renderings of a record (the views section)
    cache_augmented: NonNeg = 0
    # mixup of each training batch with itself (images, cached trunk maps or signals, and
    # their losses): lam ~ Beta(mixup, mixup); 0: off. Image and 1-D runs
    mixup: NonNegFloat = 0.0


@section
class ExperimentConfig:
    name: str = "experiment"
    output_dir: str = "output"
    data: DataConfig = field(default_factory=DataConfig)
    render: RenderConfig = field(default_factory=RenderConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    features: FeatureModelConfig = field(default_factory=FeatureModelConfig)
    signal1d: Signal1DConfig = field(default_factory=Signal1DConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    image_aug: ImageAugConfig = field(default_factory=ImageAugConfig)
    signal_aug: SignalAugConfig = field(default_factory=SignalAugConfig)
    print_aug: PrintAugConfig = field(default_factory=PrintAugConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    # extra renderings of each record, as overrides of the render section (e.g.
    # ``[{mm_per_mv: 20}]``: the same leads at twice the gain, P and T waves larger): each
    # goes through the same frozen backbone and their maps are stacked on channels
    views: tuple[dict[str, Any], ...] = ()

    def __post_init__(self) -> None:
        check_experiment(self)

    @property
    def renders(self) -> tuple[RenderConfig, ...]:
        """The render section, then each of ``views`` applied to it."""
        base = to_dict(self.render)
        return (self.render,) + tuple(
            from_dict(RenderConfig, {**base, **view}, f"views[{i}].")
            for i, view in enumerate(self.views)
        )

    @property
    def run_dir(self) -> Path:
        return Path(self.output_dir) / self.name

    @property
    def num_classes(self) -> int:
        return 2 if self.data.task == 1 else 12


def load_experiment(path: str | Path | None, overrides: list[str] = ()) -> ExperimentConfig:
    """Load an experiment YAML (optional ``base:`` file it extends) plus overrides."""
    data = _load_with_base(Path(path)) if path else {}
    return experiment_from_dict(apply_overrides(data, overrides))


# Options of earlier versions: pictures were once classified as images (photo
# augmentation of colour paper renders); the digitiser now reads them back into signals
# for every run kind. Configs and saved runs that left them at their defaults still load.
_RETIRED_RENDER = {"color": False, "paper": "gray"}
_RETIRED_WHY = (
    "was removed: pictures are now digitised (digitize.py, predict.py --images) and "
    "served by every run kind; train again without it"
)


def experiment_from_dict(data: dict) -> ExperimentConfig:
    """:class:`ExperimentConfig` from a config dict (a YAML, or a saved run's
    ``config.yaml``), retired options at their old defaults dropped; one set otherwise
    raises ``ValueError`` naming it."""
    data = {key: dict(value) if isinstance(value, dict) else value for key, value in data.items()}
    photo = data.pop("photo_aug", None)
    if isinstance(photo, dict) and photo.get("enabled"):
        raise ValueError(f"photo_aug.enabled {_RETIRED_WHY}")
    render = data.get("render")
    for option, default in _RETIRED_RENDER.items():
        if isinstance(render, dict) and render.pop(option, default) != default:
            raise ValueError(f"render.{option} {_RETIRED_WHY}")
    return from_dict(ExperimentConfig, data)


def finished_run(cfg: ExperimentConfig) -> bool:
    """Whether ``cfg.run_dir`` holds this config's finished k-fold run (out-of-fold
    predictions, and its saved config, read back as today's code reads it, equal but for
    where the cache lives and how often it logs)."""
    from .run_folder import CONFIG_FILE, OOF_PROBS

    folder = cfg.run_dir
    if not (folder / OOF_PROBS).is_file() or not (folder / CONFIG_FILE).is_file():
        return False
    try:
        saved = experiment_from_dict(load_yaml(folder / CONFIG_FILE))
    except ValueError:
        return False
    return _outcome_options(saved) == _outcome_options(cfg)


# Options that say where a run keeps its cache or how often it logs, not what it learns.
_NOT_OUTCOME = {"data": ("num_workers",), "train": ("cache_dir", "log_interval")}


def _outcome_options(cfg: ExperimentConfig) -> dict:
    """``cfg`` as a dict without the options that cannot change a run's predictions."""
    options = to_dict(cfg)
    for part, keys in _NOT_OUTCOME.items():
        for key in keys:
            options[part].pop(key, None)
    return options


def check_experiment(cfg: ExperimentConfig) -> None:
    """Every rule between options of different sections, in one place: run whenever an
    experiment is built (a YAML, overrides, a saved run's ``config.yaml``). Raises
    ``ValueError`` naming the options."""
    data, model, train = cfg.data, cfg.model, cfg.train
    if isinstance(data.fold, int) and data.fold >= data.n_folds:
        raise ValueError(f"data.fold must be 0..{data.n_folds - 1} or 'all', got {data.fold}")
    if data.source == "png" and not data.processed:
        raise ValueError("data.source: png needs data.processed (process.py output folder)")
    monitors = ("auto", *TASK_METRICS[data.task])
    if train.monitor not in monitors:
        raise ValueError(
            f"train.monitor {train.monitor!r} is not a task-{data.task} validation "
            f"metric; choose from {', '.join(monitors)}"
        )
    loss = cfg.loss.name
    if (loss == "ce") != (data.task == 1) and loss != "auto":
        raise ValueError(
            f"loss.name {loss} does not fit task {data.task}: task 1 uses ce, task 2 "
            "(multi-label) bce or asl"
        )
    if train.keep == "last" and train.early_stop:
        raise ValueError("train.early_stop needs train.keep: best (it stops on the monitor)")
    _check_rendering(cfg)
    if data.stft and model.head != "gap":
        raise ValueError("data.stft (two streams) needs model.head: gap")
    get_kind(model.kind).check(cfg)
    if train.cache_trunk:
        _check_cached_trunk(cfg)


def _check_rendering(cfg: ExperimentConfig) -> None:
    """Augmentations, colour renders and extra views against the data source."""
    live = cfg.data.source == "signal"
    if cfg.signal_aug.enabled and not live:
        raise ValueError("signal_aug.enabled needs data.source: signal (render on the fly)")
    if cfg.print_aug.p and cfg.data.stft:
        raise ValueError("print_aug.p needs data.stft off (no STFT of a partial record)")
    if not cfg.views:
        return
    for i, view in enumerate(cfg.renders[1:]):
        if view.size != cfg.render.size:
            raise ValueError(f"views[{i}].size must equal render.size ({cfg.render.size})")
    if not live or cfg.data.stft:
        raise ValueError("views need data.source: signal and no data.stft")
    if cfg.model.freeze_stages != cfg.model.stages:
        raise ValueError(
            "views need model.freeze_stages == model.stages: each view's maps come from "
            "the frozen backbone and only the head sees them stacked"
        )


def _check_cached_trunk(cfg: ExperimentConfig) -> None:
    augments = (cfg.image_aug, cfg.signal_aug)
    if cfg.data.stft:
        raise ValueError("train.cache_trunk serves single-stream models: disable data.stft")
    if any(a.enabled for a in augments) and not cfg.train.cache_augmented:
        raise ValueError(
            "train.cache_trunk with augmentation needs train.cache_augmented > 0 (fixed "
            "augmented copies to cache), or disable image_aug and signal_aug"
        )
    if not 1 <= cfg.model.freeze_stages <= 5:
        raise ValueError("train.cache_trunk needs model.freeze_stages 1-5 (the trunk)")


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

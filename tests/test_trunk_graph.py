"""The frozen trunk through Paddle Inference, and one trunk pass shared by all folds."""

from __future__ import annotations

import numpy as np
import paddle

from ecgplot import aiwin
from ecgplot.experiment import load_experiment
from ecgplot.inputs import plot_tensor
from ecgplot.model import build_model
from ecgplot.render import render_plot
from ecgplot.trunk_graph import SharedTrunk, TopPredictor, same_trunk, trunk_runner

from .conftest import ROOT


def small_model(seed: int = 0, views: int = 1):
    cfg = load_experiment(
        ROOT / "configs" / "cpu_small_task2.yaml",
        ["model.arch=resnet18", "model.pretrained=null", "render.size=96"],
    )
    paddle.seed(seed)
    model = build_model(cfg.model, cfg.num_classes, views=views)
    model.eval()
    return cfg, model


def rendered(cfg, small_t2, n: int = 3) -> np.ndarray:
    """Normalised renderings of real records, both views: (n, 2, 3, H, W)."""
    paths = sorted((small_t2 / "train").glob("*.mat"))[:n]
    signals = [aiwin.read_record(p).signal for p in paths]
    return np.stack(
        [plot_tensor(np.stack([render_plot(s, r) for r in cfg.renders])) for s in signals]
    )


def test_inference_graph_gives_the_eager_trunk_maps(small_t2):
    cfg, model = small_model()
    x = rendered(cfg, small_t2).reshape(-1, 3, 96, 96)
    eager = trunk_runner(model, "eager")(x)
    fast = trunk_runner(model, "inference")(x)
    assert fast.shape == eager.shape == (6, 256, 6, 6)  # resnet18 layer3 at 1/16
    np.testing.assert_allclose(fast, eager, rtol=1e-4, atol=1e-4 * np.abs(eager).max())
    other_size = trunk_runner(model, "inference")(x[:, :, :64, :80])  # any image size
    assert other_size.shape == (6, 256, 4, 5)


def test_folds_share_one_trunk_pass_and_predict_as_their_full_models(small_t2):
    cfg, first = small_model(seed=0, views=2)
    _, second = small_model(seed=1, views=2)  # another head
    second.backbone.set_state_dict(first.backbone.state_dict())
    assert not np.allclose(first.head.fc.weight.numpy(), second.head.fc.weight.numpy())
    assert same_trunk([first, second])
    calls = []
    run = trunk_runner(first, "inference")
    trunk = SharedTrunk(lambda b: calls.append(len(b)) or run(b), batch_size=4)
    x = rendered(cfg, small_t2)
    for model in (first, second):
        shared = TopPredictor(model, 2, trunk)([x])
        full = paddle.nn.functional.sigmoid(model(paddle.to_tensor(x))).numpy()
        np.testing.assert_allclose(shared, full, atol=1e-4)
    assert calls == [4, 2]  # 3 records x 2 views, once, in batches of 4
    layer = second.backbone.layer1[0].conv1
    layer.weight.set_value(layer.weight.numpy() + 1e-3)
    assert not same_trunk([first, second])

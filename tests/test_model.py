"""Model building: pretrained loading from a file the test writes, heads, v1 strides."""

from __future__ import annotations

import numpy as np
import paddle
import pytest
from paddle.vision.models import resnet50

from ecgplot.experiment import ModelConfig, load_experiment
from ecgplot.heads import band_pool, upgrade_state
from ecgplot.model import build_model, use_stride_in_1x1

from .conftest import ROOT


@pytest.fixture(scope="module")
def imagenet_like_file(tmp_path_factory):
    """A paddle.vision ResNet50 with a 1000-class head, saved as .pdparams."""
    paddle.seed(7)
    src = resnet50(num_classes=1000)
    path = tmp_path_factory.mktemp("weights") / "resnet50_test.pdparams"
    paddle.save(src.state_dict(), str(path))
    return path, {k: v.numpy() for k, v in src.state_dict().items()}


def test_pretrained_file_loads_every_backbone_key_and_skips_head(imagenet_like_file):
    path, saved = imagenet_like_file
    model = build_model(ModelConfig(pretrained=str(path)), num_classes=12)
    report = model.load_report
    backbone_keys = set(model.backbone.state_dict())
    assert set(report["loaded"]) == backbone_keys and len(backbone_keys) == 265
    assert report["skipped"] == ["fc.bias", "fc.weight"] and report["missing"] == []
    for key, value in model.backbone.state_dict().items():
        np.testing.assert_array_equal(value.numpy(), saved[key])
    assert model.head.fc.weight.shape == [2048, 12]
    out = model(paddle.randn([2, 3, 64, 64]))
    assert out.shape == [2, 12]


def test_two_stream_and_frozen_stages(imagenet_like_file):
    path, saved = imagenet_like_file
    model = build_model(ModelConfig(pretrained=str(path), freeze_stages=2), 2, two_stream=True)
    assert model.stft_backbone is not None
    np.testing.assert_array_equal(model.stft_backbone.conv1.weight.numpy(), saved["conv1.weight"])
    assert model.head.fc.weight.shape == [4096, 2]  # concatenated features
    assert model.backbone.layer1[0].conv1.weight.stop_gradient
    assert not model.backbone.layer2[0].conv1.weight.stop_gradient
    model.train()
    assert not model.backbone.bn1.training and model.backbone.layer2.training  # frozen BN
    out = model(paddle.randn([2, 3, 64, 64]), paddle.randn([2, 3, 64, 64]))
    assert out.shape == [2, 2]
    shared = build_model(
        ModelConfig(pretrained=None, shared_backbone=True, fusion="sum"), 12, two_stream=True
    )
    assert shared.stft_backbone is None and shared.head.fc.weight.shape == [2048, 12]


def test_missing_pretrained_file_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothere.pdparams not found"):
        build_model(ModelConfig(pretrained=str(tmp_path / "nothere.pdparams")), 12)


def test_v1_stride_placement_keeps_shapes():
    net = resnet50(num_classes=0)
    x = paddle.randn([1, 3, 64, 64])
    before = net(x).shape
    use_stride_in_1x1(net)
    assert net.layer3[0].conv1._stride == [2, 2] and net.layer3[0].conv2._stride == [1, 1]
    assert net(x).shape == before


def test_rows_head_on_layer3_sees_which_lead_a_pattern_is_in():
    """model.stages 4 + head rows: the backbone stops after layer3 (no layer4 weights),
    and the head keeps the vertical position: the same layer3 activation in the first or
    the last lead's band has the same global average but different rows-head outputs."""
    cfg = ModelConfig(
        pretrained=None, stages=4, freeze_stages=4, head="rows", head_channels=8, head_rows=12
    )
    model = build_model(cfg, num_classes=3)
    assert not any(k.startswith("backbone.layer4") for k in model.state_dict())
    assert model.head.fc.weight.shape == [2 * 8 * 12, 3]
    model.eval()
    assert model.trunk(paddle.randn([1, 3, 192, 192])).shape == [1, 1024, 12, 12]  # 1/16
    rng = np.random.default_rng(0)
    maps = np.zeros((2, 1024, 12, 12), np.float32)
    maps[0, :, 0, 3:6] = rng.random((1024, 1)) * 4  # an activation in the first band
    maps[1, :, 11, 3:6] = maps[0, :, 0, 3:6]  # the same in the last band
    np.testing.assert_array_equal(maps[0].mean((1, 2)), maps[1].mean((1, 2)))
    logits = model.top(paddle.to_tensor(maps)).numpy()
    assert np.abs(logits[0] - logits[1]).max() > 1e-2
    flipped = model.top(paddle.to_tensor(maps[:, :, ::-1].copy())).numpy()
    np.testing.assert_allclose(flipped[::-1], logits, atol=1e-5)  # only the band moved


def test_band_pool_std_sees_the_spread_that_mean_and_max_miss():
    """Two bands with the same mean and maximum over time, one alternating (beat-to-beat
    variation) and one steady: only the spread tells them apart; on constant maps the
    spread's gradient stays finite (sqrt(var + eps))."""
    maps = np.zeros((1, 1, 2, 24), np.float32)
    maps[0, 0, 0] = np.tile([1.0, 0.0], 12)
    maps[0, 0, 1, :2] = [1.0, 0.0]
    maps[0, 0, 1, 2:] = 0.5
    avg, mx, std = (
        band_pool(paddle.to_tensor(maps), 2, [p]).numpy().ravel() for p in ("avg", "max", "std")
    )
    np.testing.assert_allclose(avg[0], avg[1], rtol=1e-6)
    np.testing.assert_allclose(mx[0], mx[1])
    np.testing.assert_allclose(std, [0.5, np.sqrt(0.5 / 24)], rtol=1e-3)
    flat = paddle.ones([1, 4, 2, 6])
    flat.stop_gradient = False
    band_pool(flat, 2, ["avg", "max", "std"]).sum().backward()
    assert np.isfinite(flat.grad.numpy()).all()


def test_band_pool_bins_keep_where_along_the_trace_a_pattern_is():
    """A median beat's QRS early or late in the band (a long or short PR) pools to the
    same whole-width statistics; with time bins every statistic tells them apart, and
    the spread per bin matches numpy's on each stretch."""
    rng = np.random.default_rng(1)
    maps = np.zeros((2, 3, 2, 24), np.float32)  # (early, late), 3 channels, 2 bands
    maps[:, 1:] = rng.random((2, 24))  # the other channels: the same in both samples
    maps[0, 0, 0, 2:5] = maps[1, 0, 0, 14:17] = [0.3, 1.0, 0.6]
    maps = paddle.to_tensor(maps)
    pools = ["avg", "max", "std"]
    whole = band_pool(maps, 2, pools).numpy()
    np.testing.assert_allclose(whole[0], whole[1], rtol=1e-5)
    binned = band_pool(maps, 2, pools, bins=4).numpy()
    assert binned.shape == (2, 9, 2, 4)
    assert np.abs(binned[0] - binned[1]).max() > 0.1
    stretches = maps.numpy().reshape(2, 3, 2, 4, 6)
    np.testing.assert_allclose(binned[:, 6:], stretches.std(axis=4), atol=4e-3)


def test_rows_head_kernel_and_pools_shape_the_head():
    cfg = ModelConfig(
        pretrained=None,
        stages=4,
        freeze_stages=4,
        head="rows",
        head_channels=8,
        head_kernel=5,
        head_pools=["avg", "max", "std"],
    )
    model = build_model(cfg, num_classes=12)
    assert model.head.reduce[0].weight.shape == [8, 1024, 1, 5]
    assert model.head.fc.weight.shape == [3 * 8 * 12, 12]
    out = model.top(paddle.randn([2, 1024, 24, 24]))
    assert out.shape == [2, 12] and np.isfinite(out.numpy()).all()
    timed = build_model(
        ModelConfig(
            pretrained=None,
            stages=4,
            freeze_stages=4,
            head="rows",
            head_channels=8,
            head_time_kernel=5,
        ),
        num_classes=12,
    )
    assert timed.head.reduce.time.weight.shape == [8, 8, 1, 5]  # after the reduction: cheap
    assert timed.top(paddle.randn([2, 1024, 24, 24])).shape == [2, 12]
    binned = build_model(
        ModelConfig(
            pretrained=None, stages=4, freeze_stages=4, head="rows", head_channels=8, head_bins=4
        ),
        num_classes=12,
    )
    assert binned.head.fc.weight.shape == [2 * 8 * 12 * 4, 12]
    assert binned.top(paddle.randn([2, 1024, 24, 24])).shape == [2, 12]
    with pytest.raises(ValueError, match="head_kernel must be odd"):
        ModelConfig(head_kernel=4)
    with pytest.raises(ValueError, match="head_time_kernel must be odd"):
        ModelConfig(head_time_kernel=4)
    with pytest.raises(ValueError, match="distinct statistics"):
        ModelConfig(head_pools=["avg", "avg"])


def test_rows_head_and_stages_are_checked():
    with pytest.raises(ValueError, match=r"freeze_stages \(5\) exceeds model.stages \(4\)"):
        ModelConfig(stages=4, freeze_stages=5)
    with pytest.raises(ValueError, match="needs model.head: gap"):
        load_experiment(ROOT / "configs" / "task2_resnet50_640_stft.yaml", ["model.head=rows"])


def test_checkpoints_from_before_head_layers_load_with_their_keys_renamed():
    """Runs saved when the head's layers sat on the classifier itself (``head.weight``,
    ``reduce.0.weight``) load into today's network and predict the same."""
    cfg = ModelConfig(pretrained=None, stages=4, freeze_stages=4, head="rows", head_channels=8)
    paddle.seed(3)
    model = build_model(cfg, num_classes=12)
    model.eval()
    state = model.state_dict()
    old = {
        k.replace("head.fc.", "head.").replace("head.reduce.", "reduce."): v
        for k, v in state.items()
    }
    assert "reduce.0.weight" in old and "head.weight" in old and "head.fc.weight" not in old
    again = build_model(cfg, num_classes=12)
    again.set_state_dict(upgrade_state(old))
    again.eval()
    x = paddle.randn([2, 3, 128, 128])
    np.testing.assert_array_equal(again(x).numpy(), model(x).numpy())
    assert upgrade_state(state) is state

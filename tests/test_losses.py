"""Losses and optimizer options no shipped config sets: asymmetric loss, label smoothing,
momentum SGD and gradient clipping, checked against what they are defined to do."""

from __future__ import annotations

import dataclasses

import numpy as np
import paddle
import pytest

from ecgplot.experiment import LossConfig, load_experiment
from ecgplot.losses import build_loss
from ecgplot.trainer import build_optimizer

from .conftest import ROOT


def logits_and_targets(seed: int = 0) -> tuple[paddle.Tensor, paddle.Tensor]:
    rng = np.random.default_rng(seed)
    logits = paddle.to_tensor(rng.normal(0, 2, (64, 12)).astype(np.float32))
    target = paddle.to_tensor((rng.random((64, 12)) < 0.2).astype(np.float32))
    return logits, target


def test_asymmetric_loss_without_focusing_or_margin_is_binary_cross_entropy():
    logits, target = logits_and_targets()
    plain = LossConfig(name="asl", asl_gamma_neg=0.0, asl_gamma_pos=0.0, asl_clip=0.0)
    asl = build_loss(plain, 2, target.numpy())(logits, target)
    bce = build_loss(LossConfig(name="bce"), 2, target.numpy())(logits, target)
    np.testing.assert_allclose(float(asl), 12 * float(bce), rtol=1e-5)  # summed over classes


def test_asymmetric_loss_focuses_on_hard_negatives_and_drops_easy_ones():
    easy = paddle.to_tensor([[-4.0]])  # a negative the model already rejects (p = 0.018)
    hard = paddle.to_tensor([[2.0]])  # a negative it wrongly accepts (p = 0.88)
    negative = paddle.to_tensor([[0.0]])
    default = build_loss(LossConfig(name="asl"), 2, np.zeros((1, 1)))
    bce = build_loss(LossConfig(name="bce"), 2, np.zeros((1, 1)))
    assert float(default(easy, negative)) == 0.0  # under the 0.05 margin: no loss at all
    assert float(bce(easy, negative)) > 0
    ratio_asl = float(default(hard, negative)) / float(bce(hard, negative))
    assert 0.3 < ratio_asl < 1  # the hard one keeps most of its loss (p - clip)^4 weighting
    focused = LossConfig(name="asl", asl_gamma_neg=4.0, asl_clip=0.0)
    near = build_loss(focused, 2, np.zeros((1, 1)))(paddle.to_tensor([[-1.0]]), negative)
    assert float(near) < 0.01 * float(bce(paddle.to_tensor([[-1.0]]), negative))
    positive = paddle.to_tensor([[1.0]])
    sharp = LossConfig(name="asl", asl_gamma_pos=2.0)
    assert float(build_loss(sharp, 2, np.ones((1, 1)))(hard, positive)) < float(
        default(hard, positive)
    )


@pytest.mark.parametrize("task", [1, 2])
def test_label_smoothing_stops_rewarding_certainty(task):
    """With smoothing the loss of a confident right answer is no longer near 0, and the
    loss is lowest at a probability below 1."""
    cfg = LossConfig(label_smoothing=0.2)
    if task == 1:
        target = paddle.to_tensor([[1]], dtype="int64")
        logits = [paddle.to_tensor([[-z, z]]) for z in (1.0, 2.0, 8.0)]
    else:
        target = paddle.to_tensor([[1.0]])
        logits = [paddle.to_tensor([[z]]) for z in (1.0, 2.0, 8.0)]
    smooth = build_loss(cfg, task, np.ones((1, 1)))
    sharp = build_loss(dataclasses.replace(cfg, label_smoothing=0.0), task, np.ones((1, 1)))
    losses = [float(smooth(x, target)) for x in logits]
    assert float(sharp(logits[2], target)) < 1e-3 < losses[2]
    assert losses[2] > min(losses[:2])  # overconfidence now costs


def optimizer_for(*overrides: str):
    cfg = load_experiment(ROOT / "configs" / "cpu_small_task2.yaml", list(overrides))
    paddle.seed(0)
    layer = paddle.nn.Linear(4, 3)
    opt, _ = build_optimizer(cfg, layer, steps=10)
    return layer, opt


def test_momentum_sgd_keeps_moving_in_the_last_direction():
    """optim.name momentum: a second step with a zero gradient still moves the weights by
    momentum times the first step."""
    layer, opt = optimizer_for(
        "optim.name=momentum", "optim.momentum=0.5", "optim.weight_decay=0", "optim.warmup_epochs=0"
    )
    assert isinstance(opt, paddle.optimizer.Momentum)
    w0 = layer.weight.numpy().copy()
    (layer(paddle.ones([2, 4])).sum()).backward()
    opt.step()
    opt.clear_grad()
    w1 = layer.weight.numpy().copy()
    (layer(paddle.ones([2, 4])).sum() * 0).backward()
    opt.step()
    step1, step2 = w1 - w0, layer.weight.numpy() - w1
    assert np.abs(step1).min() > 0
    np.testing.assert_allclose(step2, 0.5 * step1 * opt.get_lr() / 1e-3, rtol=1e-3)


def test_grad_clip_bounds_the_gradients_global_norm():
    """optim.grad_clip: a huge gradient is scaled to that global norm before the step, so
    plain SGD (momentum 0) moves the weights by lr x clip at most."""
    lr = 1e-3
    args = ["optim.name=momentum", "optim.momentum=0", "optim.weight_decay=0"]
    args += ["optim.warmup_epochs=0", f"optim.lr={lr}"]
    moved = {}
    for clip in (None, 1.0):
        layer, opt = optimizer_for(*args, f"optim.grad_clip={'null' if clip is None else clip}")
        before = [p.numpy().copy() for p in layer.parameters()]
        (layer(paddle.full([8, 4], 100.0)).sum() * 1000).backward()
        opt.step()
        moved[clip] = np.sqrt(
            sum(((p.numpy() - b) ** 2).sum() for p, b in zip(layer.parameters(), before))
        )
    assert moved[None] > 100 * lr
    assert moved[1.0] == pytest.approx(lr * 1.0, rel=1e-3)

"""Training the learned row reader (:mod:`.row_net`) on rows the package draws
(:mod:`.row_synth`): windows of rows, a soft cross-entropy over each column's bins."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from ..atomic import atomic_path
from .row_net import build_network, network_input, read_bins
from .row_synth import SynthRow, synth_page

log = logging.getLogger(__name__)

SIGMA_BINS = 1.0  # width of the soft target around the true bin
# fixture records (tests/data/physionet) the shipped weights are not trained on: the
# five with the tallest precordial complexes, which the tests read
HELD_OUT_RECORDS = ("A1041", "JS20003", "00004_hr", "00002_hr", "JS01560")


@dataclass
class RowTraining:
    """What a training run does: pages drawn, steps, batch and window size."""

    pages: int = 700
    steps: int = 1500
    batch: int = 12
    window: int = 256  # columns, about 2 s
    lr: float = 2e-3
    seed: int = 0


def draw_rows(signals: list[np.ndarray], pages: int, seed: int) -> list[SynthRow]:
    """Rows of ``pages`` prints, each of a record drawn in turn from ``signals``."""
    rng = np.random.default_rng(seed)
    rows: list[SynthRow] = []
    for i in tqdm(range(pages), desc="drawing rows", leave=False):
        rows += synth_page(signals[i % len(signals)], rng)
    return rows


def _batch(rows: list[SynthRow], size: int, window: int, rng: np.random.Generator):
    xs, ts, vs = [], [], []
    while len(xs) < size:
        row = rows[rng.integers(len(rows))]
        cols = row.ink.shape[1]
        if cols < window or row.valid.sum() < window // 4:
            continue
        a = int(rng.integers(0, cols - window + 1))
        xs.append(network_input(row.ink[:, a : a + window] / 255.0))
        ts.append(row.target[a : a + window])
        vs.append(row.valid[a : a + window])
    return np.stack(xs), np.nan_to_num(np.stack(ts)), np.stack(vs)


def _loss(logits, target, valid):
    """Soft cross-entropy over the bins of the valid columns."""
    import paddle

    bins = paddle.arange(logits.shape[1], dtype="float32")[None, :, None]
    q = paddle.exp(-0.5 * ((bins - target[:, None, :]) / SIGMA_BINS) ** 2)
    q = q / q.sum(axis=1, keepdim=True)
    nll = -(q * paddle.nn.functional.log_softmax(logits, axis=1)).sum(axis=1)
    w = valid.astype("float32")
    return (nll * w).sum() / w.sum().clip(min=1.0)


def column_error(net, rows: list[SynthRow]) -> float:
    """Median absolute error (bins) of the decoded rows' valid columns."""
    net.eval()
    errors = [np.abs(read_bins(net, row.ink / 255.0) - row.target)[row.valid] for row in rows]
    net.train()
    return float(np.median(np.concatenate(errors)))


def train_row_reader(
    train: list[np.ndarray], held_out: list[np.ndarray], out: Path, plan: RowTraining
) -> dict:
    """Train on rows drawn from ``train`` records, report the error on rows drawn from
    ``held_out``, save the weights to ``out``; the figures."""
    import paddle

    paddle.seed(plan.seed)
    rng = np.random.default_rng(plan.seed)
    rows = draw_rows(train, plan.pages, plan.seed)
    check = draw_rows(held_out, max(4, plan.pages // 30), plan.seed + 1)[:24]
    net = build_network()
    schedule = paddle.optimizer.lr.CosineAnnealingDecay(plan.lr, plan.steps)
    opt = paddle.optimizer.Adam(schedule, parameters=net.parameters())
    figures = {"rows": len(rows), "held_out_rows": len(check)}
    figures["held_out_error_bins_before"] = column_error(net, check)
    net.train()
    progress = tqdm(range(plan.steps), desc="row reader")
    for step in progress:
        x, t, v = _batch(rows, plan.batch, plan.window, rng)
        loss = _loss(net(paddle.to_tensor(x)), paddle.to_tensor(t), paddle.to_tensor(v))
        loss.backward()
        opt.step()
        opt.clear_grad()
        schedule.step()
        progress.set_postfix(loss=f"{float(loss):.3f}")
        if (step + 1) % 250 == 0:
            log.info("step %d loss %.3f", step + 1, float(loss))
    figures["held_out_error_bins"] = column_error(net, check)
    with atomic_path(out) as tmp:
        paddle.save(net.state_dict(), str(tmp))
    log.info("row reader saved to %s: %s", out, figures)
    return figures

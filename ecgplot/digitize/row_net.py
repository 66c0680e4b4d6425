"""A learned row reader: where one row's own trace runs, column by column, read by a
small U-Net from the ink around the row, so that a tall complex of a neighbouring row
crossing it (the merged strokes of tight 12x1 prints) is told from its own.

The input is the page's trace ink around the row's baseline, resampled to a fixed
scale (``SX`` columns and ``SY`` bins a millimetre, ``HEIGHT`` bins centred on the
baseline) with a second channel that says how far each bin is from it; the output is,
per column, a distribution over the bins, read as the expected bin near its mode.
Trained on prints the package draws itself (:mod:`.row_synth`,
``tools/train_row_reader.py``, 30-60 minutes on two CPU cores); without its weights
the digitiser reads with the tracer alone."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

from ..pretrained import weights_dir

SX = 5.0  # columns a millimetre across (8 ms at 25 mm/s)
SY = 1.25  # bins a millimetre down (0.08 mV at 10 mm/mV; the decoding reads between bins)
HEIGHT = 96  # bins, +-38.4 mm around the baseline: a 3 mV complex at 10 mm/mV fits
WIDTHS = (8, 16, 32, 48)  # channels of the U-Net's four levels
DECODE_BINS = 4  # the expected bin is taken this far either side of the mode
WEIGHTS_FILE = "row_reader.pdparams"  # in $ECGPLOT_WEIGHTS, made by tools/train_row_reader.py


def row_input(
    mask: np.ndarray, baseline: float, x_from: int, x_to: int, px_per_mm: tuple[float, float]
) -> tuple[np.ndarray, float, float]:
    """The row's ink at the network's scale: (HEIGHT, columns) float32 in [0, 1], the
    native row of its top edge and the native rows a bin."""
    px_x, px_y = px_per_mm
    rows = int(round(HEIGHT * px_y / SY))
    top = int(round(baseline - rows / 2))
    crop = np.zeros((rows, x_to - x_from), np.float32)
    lo, hi = max(0, top), min(mask.shape[0], top + rows)
    if hi > lo:
        crop[lo - top : hi - top] = mask[lo:hi, x_from:x_to]
    cols = max(8, int(round((x_to - x_from) * SX / px_x)))
    small = cv2.resize(crop, (cols, HEIGHT), interpolation=cv2.INTER_AREA)
    return np.clip(small, 0.0, 1.0), float(top), rows / HEIGHT


def network_input(ink: np.ndarray) -> np.ndarray:
    """(2, HEIGHT, columns): the ink and each bin's distance from the baseline (-1 to 1),
    the columns padded to a multiple of 8 for the U-Net's three halvings."""
    cols = ink.shape[1]
    pad = -cols % 8
    ink = np.pad(ink, ((0, 0), (0, pad)))
    ramp = np.linspace(-1, 1, HEIGHT, dtype=np.float32)[:, None]
    return np.stack([ink, np.broadcast_to(ramp, ink.shape)]).astype(np.float32)


def decode(logits: np.ndarray) -> np.ndarray:
    """(HEIGHT, columns) logits to the expected bin of each column near its mode."""
    p = np.exp(logits - logits.max(axis=0, keepdims=True))
    mode = p.argmax(axis=0)
    bins = np.arange(HEIGHT)[:, None]
    near = np.abs(bins - mode[None, :]) <= DECODE_BINS
    w = np.where(near, p, 0.0)
    return (w * bins).sum(axis=0) / w.sum(axis=0)


def build_network():
    """The U-Net (paddle imported here: the digitiser runs without it until used)."""
    import paddle
    from paddle import nn

    def block(cin: int, cout: int) -> nn.Sequential:
        return nn.Sequential(
            nn.Conv2D(cin, cout, 3, padding=1, bias_attr=False),
            nn.BatchNorm2D(cout),
            nn.ReLU(),
            nn.Conv2D(cout, cout, 3, padding=1, bias_attr=False),
            nn.BatchNorm2D(cout),
            nn.ReLU(),
        )

    class RowNet(nn.Layer):
        """(batch, 2, HEIGHT, columns) -> (batch, HEIGHT, columns) logits over bins."""

        def __init__(self, widths: tuple[int, ...] = WIDTHS):
            super().__init__()
            w = widths
            self.down = nn.LayerList([block(2, w[0]), block(w[0], w[1]), block(w[1], w[2])])
            self.bottom = block(w[2], w[3])
            self.up = nn.LayerList(
                [block(w[3] + w[2], w[2]), block(w[2] + w[1], w[1]), block(w[1] + w[0], w[0])]
            )
            self.pool = nn.MaxPool2D(2)
            self.head = nn.Conv2D(w[0], 1, 1)

        def forward(self, x):
            skips = []
            for layer in self.down:
                x = layer(x)
                skips.append(x)
                x = self.pool(x)
            x = self.bottom(x)
            for layer, skip in zip(self.up, reversed(skips)):
                x = nn.functional.interpolate(x, scale_factor=2, mode="nearest")
                x = layer(paddle.concat([x, skip], axis=1))
            return self.head(x)[:, 0]

    return RowNet()


def weights_path() -> Path:
    """Where the trained reader's weights are (``$ECGPLOT_WEIGHTS``, default
    ``~/.cache/ecgplot``): made on the user's machine, never shipped."""
    return weights_dir() / WEIGHTS_FILE


def load_reader():
    """The trained network in eval mode, or None where no weights file is there (the
    digitiser then reads with the tracer alone)."""
    return _load(str(weights_path()))


@lru_cache(maxsize=2)
def _load(path: str):
    if not Path(path).is_file():
        return None
    import paddle

    net = build_network()
    net.set_state_dict(paddle.load(path))
    net.eval()
    return net


def read_bins(net, ink: np.ndarray) -> np.ndarray:
    """Each column's trace height (bins) of a row's ink at the network's scale."""
    import paddle

    with paddle.no_grad():
        logits = net(paddle.to_tensor(network_input(ink)[None]))[0].numpy()
    return decode(logits[:, : ink.shape[1]])


def read_row(
    net, mask: np.ndarray, baseline: float, x_from: int, x_to: int, px_per_mm: tuple[float, float]
) -> np.ndarray:
    """The row's trace height (native pixel rows) at every column x_from..x_to-1."""
    ink, top, px_a_bin = row_input(mask, baseline, x_from, x_to, px_per_mm)
    bins = read_bins(net, ink)
    cols = ink.shape[1]
    x_net = x_from + (np.arange(cols) + 0.5) * (x_to - x_from) / cols  # column centres
    y_net = top + (bins + 0.5) * px_a_bin
    return np.interp(np.arange(x_from, x_to) + 0.5, x_net, y_net)

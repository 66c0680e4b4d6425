"""Pictures of records drawn by ecg_plot (PyPI, MIT), a program that is neither the
project's renderer nor its test drawer: the second, independent route for the digitiser.

ecg_plot draws each panel apart on its own grid (gaps between panels, each grid in its
own phase), the rhythm strip narrower than the rows above it, the calibration pulse
centred on the baseline, tick labels under every panel and rows as tall as the record's
largest deflection needs; faint 1 mm lines. Layouts: 3x4 (``12lead``, 2.5 s a panel,
lead-II rhythm strip), 6x2 (``columns``, 5 s a panel) and 12x1 (``stacked``, 10 s).
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import cv2
import numpy as np

LEADS = ("I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6")
FS, N = 500, 5000


@dataclass(frozen=True)
class Drawn:
    """An ecg_plot picture (RGB uint8), its px per mm and the samples it shows."""

    image: np.ndarray
    px_per_mm: float
    printed: np.ndarray


def shown(layout: str) -> np.ndarray:
    """(12, 5000) bool: the samples each lead has in an ecg_plot print of ``layout``."""
    printed = np.zeros((12, N), bool)
    if layout == "3x4":
        for lead in range(12):
            col = lead // 3
            printed[lead, col * 1250 : (col + 1) * 1250] = True
        printed[1] = True  # the rhythm strip
    elif layout == "6x2":
        for lead in range(12):
            col = lead // 6
            printed[lead, col * 2500 : (col + 1) * 2500] = True
    else:
        printed[:] = True
    return printed


def draw(signal: np.ndarray, layout: str = "3x4", dpi: float = 150.0, bw: bool = False) -> Drawn:
    """``signal`` (12, 5000) mV drawn by ecg_plot in ``layout`` at ``dpi``."""
    import ecg_plot
    import matplotlib

    matplotlib.use("Agg")
    options = {
        "3x4": dict(layout="12lead", time_mode="sequential", rhythm_lead="II"),
        "6x2": dict(layout="columns", columns=2, time_mode="sequential"),
        "12x1": dict(layout="stacked", gain=5),
    }[layout]
    chart = ecg_plot.plot(
        np.asarray(signal, float),
        sample_rate=FS,
        lead_names=list(LEADS),
        title="Patient 000  12-lead",
        style="bw" if bw else None,
        **options,
    )
    fig, _ = chart.to_matplotlib()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    bgr = cv2.imdecode(np.frombuffer(buf.getvalue(), np.uint8), cv2.IMREAD_COLOR)
    return Drawn(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), dpi / 25.4, shown(layout))

"""Make pictures of 12-lead prints from MAT records, to try digitize.py and
predict.py --images on.

    python tools/make_pictures.py --data dataset/physionet_t2/train --out pictures \
        [--layout 3x4|6x2|12x1|mixed] [--condition "phone photo"|"colour scan"|"b/w scan"|clean]
        [--limit 20] [--seed 0] [--tag 6x2_photo]

Each record becomes NAME.jpg (with --tag, NAME@TAG.jpg: pictures of a run's own records
for predict.py --oof): drawn as a cart prints it by drawers/printsim.py (matplotlib, an
independent program: no code shared with the package's renderer), then scanned or
photographed, seeded per record. "mixed" cycles through the three layouts.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from drawers.printsim import CONDITIONS, PrintStyle, draw_print, photograph  # noqa: E402
from ecgplot.aiwin import list_records, read_record  # noqa: E402

STYLES = {
    "3x4": PrintStyle(layout="3x4"),
    "6x2": PrintStyle(layout="6x2", grid="blue"),
    "12x1": PrintStyle(layout="12x1", mm_per_mv=5.0, grid="green"),
}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--data", type=Path, required=True, help="folder of MAT records")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--layout", default="mixed", choices=[*STYLES, "mixed"])
    p.add_argument("--condition", default="phone photo", choices=CONDITIONS)
    p.add_argument("--limit", type=int, help="only the first N records")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--tag", help="name the pictures NAME@TAG.jpg")
    args = p.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for i, path in enumerate(list_records(args.data)[: args.limit]):
        record = read_record(path)
        layout = list(STYLES)[i % 3] if args.layout == "mixed" else args.layout
        page = draw_print(record.signal, STYLES[layout])
        picture = photograph(page.image, args.condition, np.random.default_rng(args.seed + i))
        out = args.out / f"{record.name}{'@' + args.tag if args.tag else ''}.jpg"
        cv2.imwrite(str(out), cv2.cvtColor(picture, cv2.COLOR_RGB2BGR))
        print(out)


if __name__ == "__main__":
    main()

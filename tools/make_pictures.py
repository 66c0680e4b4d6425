"""Make pictures of paper ECGs from MAT records, to try predict.py --images on.

    python tools/make_pictures.py --data dataset/physionet_t2/train --out pictures \
        [--style "phone photo"|"colour scan"|"b/w scan"|clean] [--size 768] [--limit 20]

Each record becomes NAME.jpg in the chosen style (ecgplot.photo.picture_styles):
paper-style render, then the style's scan or photo transform, seeded per record.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ecgplot.aiwin import list_records, read_record  # noqa: E402
from ecgplot.logs import setup_logging  # noqa: E402
from ecgplot.photo import picture_styles, write_picture  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--data", type=Path, required=True, help="folder of MAT records")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--style", default="phone photo", choices=list(picture_styles(64)))
    p.add_argument("--size", type=int, default=768)
    p.add_argument("--limit", type=int, help="only the first N records")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    setup_logging()
    args.out.mkdir(parents=True, exist_ok=True)
    for i, path in enumerate(list_records(args.data)[: args.limit]):
        record = read_record(path)
        out = args.out / f"{record.name}.jpg"
        write_picture(out, record.signal, args.style, args.size, args.seed + i)
        print(out)


if __name__ == "__main__":
    main()

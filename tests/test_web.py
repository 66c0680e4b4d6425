"""The web page and its API, with the server running (serve.py under uvicorn in a
subprocess on a free port) on two tiny runs (an image model, a feature model): a picture
of a print drawn by the independent test drawer, a MAT record, bad and oversized
uploads, 20 requests at once, and a real browser (headless Chromium) using the page."""

from __future__ import annotations

import base64
import io
import os
import shutil
import socket
import subprocess
import sys
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cv2
import httpx
import numpy as np
import pytest
import scipy.io

from drawers.printsim import PrintStyle, draw_print, photograph
from ecgplot import aiwin
from ecgplot.digitize.folder import digitize_folder
from ecgplot.infer import load_run, predict_folder
from ecgplot.trainer import fit

from .conftest import ROOT, tiny_config
from .test_features import features_config

RECORD = "A0689"
UPLOAD_LIMIT_MB = 2


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def runs(physionet_t2, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("web_runs")
    image = tiny_config(physionet_t2, tmp, "train.epochs=1", "train.max_steps_per_epoch=2")
    features = features_config(physionet_t2, tmp, 2, "name=feat")
    for cfg in (image, features):
        fit(cfg)
    return [image.run_dir, features.run_dir]


@pytest.fixture(scope="module")
def server(runs, tmp_path_factory):
    """The base URL of serve.py running on the two runs."""
    port = _free_port()
    log = tmp_path_factory.mktemp("web_log") / "serve.log"
    cmd = [sys.executable, str(ROOT / "serve.py"), "--port", str(port), "--log", str(log)]
    cmd += [a for r in runs for a in ("--run", str(r))]
    cmd += ["--max-upload-mb", str(UPLOAD_LIMIT_MB), "--timeout-s", "120"]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    for _ in range(240):
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if proc.poll() is not None:
            pytest.fail(f"serve.py exited: {proc.stdout.read().decode()[-2000:]}")
        time.sleep(0.5)
    yield url
    proc.terminate()
    proc.wait(timeout=30)


@pytest.fixture(scope="module")
def photo(physionet_t2, tmp_path_factory) -> Path:
    """A phone photo (JPEG) of a 3x4 print of a real record, drawn independently."""
    signal = aiwin.read_record(physionet_t2 / "train" / f"{RECORD}.mat").signal
    img = photograph(
        draw_print(signal, PrintStyle()).image, "phone photo", np.random.default_rng(3)
    )
    path = tmp_path_factory.mktemp("web_pics") / f"{RECORD}.jpg"
    cv2.imwrite(str(path), cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
    return path


def _post(url: str, path: Path, name: str | None = None, timeout: float = 180) -> httpx.Response:
    files = {"file": (name or path.name, path.read_bytes())}
    return httpx.post(f"{url}/api/predict", files=files, timeout=timeout)


def _png(data_url: str) -> np.ndarray:
    assert data_url.startswith("data:image/png;base64,")
    raw = np.frombuffer(base64.b64decode(data_url.split(",", 1)[1]), np.uint8)
    return cv2.imdecode(raw, cv2.IMREAD_COLOR)


def test_healthz_names_the_runs(server):
    health = httpx.get(f"{server}/healthz").json()
    assert health["status"] == "ok" and health["task"] == 2
    assert [r["kind"] for r in health["runs"]] == ["image", "features"]
    page = httpx.get(server)
    assert page.status_code == 200 and 'type="file"' in page.text


def test_a_picture_shows_what_was_read_and_what_each_run_says(server, photo, tmp_path):
    """The answer names the 3x4 layout and its gain, draws the reading over the picture,
    gives each run's and the fusion's probabilities and answer and the image run's
    Grad-CAM; the signal downloaded (MAT, WFDB, CSV) is what digitize.py reads."""
    response = _post(server, photo)
    assert response.status_code == 200, response.text
    data = response.json()
    assert data["source"] == "picture" and data["name"] == RECORD
    assert data["report"]["layout"] == "3x4" and data["report"]["mm_per_mv"] == 10.0
    overlay, leads = _png(data["overlay"]), _png(data["leads"])
    assert overlay.shape[1] >= 800 and leads.shape[0] >= 500
    runs = {r["kind"]: r for r in data["runs"]}
    assert set(runs) == {"image", "features"} and data["fusion"]["kind"] == "fusion"
    for answer in [*runs.values(), data["fusion"]]:
        assert len(answer["probs"]) == 12 and all(0 <= p <= 1 for p in answer["probs"])
        assert answer["answer"] and answer["answer_row"].startswith(f"{RECORD},")
    assert _png(runs["image"]["gradcam"]).size > 0 and runs["features"]["gradcam"] is None
    (tmp_path / "pics").mkdir()
    shutil.copy(photo, tmp_path / "pics")
    digitize_folder(tmp_path / "pics", tmp_path / "cli")
    expected = aiwin.read_record(tmp_path / "cli" / f"{RECORD}.mat", missing_ok=True).signal
    got = httpx.get(server + data["downloads"]["mat"])
    assert got.status_code == 200
    mat = scipy.io.loadmat(io.BytesIO(got.content))["ecgdata"]
    np.testing.assert_allclose(mat, expected, atol=1e-6)
    csv = httpx.get(server + data["downloads"]["csv"]).text.splitlines()
    assert csv[0].startswith("time_s,I,II,III") and len(csv) == 5001
    wfdb_zip = zipfile.ZipFile(io.BytesIO(httpx.get(server + data["downloads"]["wfdb"]).content))
    assert sorted(wfdb_zip.namelist()) == [f"{RECORD}.dat", f"{RECORD}.hea"]
    answer = httpx.get(server + data["downloads"]["answer"]).text
    assert answer == data["fusion"]["answer_row"]


def test_a_mat_record_gets_the_probabilities_predict_py_gives(server, runs, physionet_t2):
    path = physionet_t2 / "train" / f"{RECORD}.mat"
    data = _post(server, path).json()
    assert data["source"] == "record" and "overlay" not in data
    pred = predict_folder(load_run(runs[0]), physionet_t2 / "train")
    expected = pred.probs[pred.names.index(RECORD)]
    np.testing.assert_allclose(data["runs"][0]["probs"], expected, atol=1e-4)


def test_bad_oversized_and_odd_uploads_get_one_line_and_the_server_goes_on(server, tmp_path):
    text = tmp_path / "notes.png"
    text.write_text("not an image")
    bad = _post(server, text)
    assert bad.status_code == 422
    assert bad.json()["error"].startswith("notes.png: not a readable image")
    assert "/tmp" not in bad.json()["error"]  # the server's own paths stay its own
    blank = tmp_path / "blank.png"
    cv2.imwrite(str(blank), np.full((400, 600, 3), 255, np.uint8))
    refused = _post(server, blank)
    assert refused.status_code == 422 and "not a readable ECG print" in refused.json()["error"]
    big = tmp_path / "big.png"
    big.write_bytes(os.urandom((UPLOAD_LIMIT_MB + 2) << 20))
    assert _post(server, big).status_code == 413
    odd = _post(server, text, name="../../escape.exe")
    assert odd.status_code == 415 and "escape.exe" in odd.json()["error"]
    sneaky = _post(server, text, name="../../../escape.png")
    assert sneaky.status_code == 422 and sneaky.json()["error"].startswith("escape.png")
    assert not (ROOT.parent / "escape.png").exists() and not Path("/escape.png").exists()
    assert httpx.get(f"{server}/healthz").json()["status"] == "ok"


def test_twenty_requests_at_once_leave_the_server_answering(server, photo):
    """Uploads wait their turn (one analysed at a time) or are turned away as busy;
    /healthz answers all the while."""
    with ThreadPoolExecutor(20) as pool:
        futures = [pool.submit(_post, server, photo, None, 600) for _ in range(20)]
        time.sleep(1.0)
        assert httpx.get(f"{server}/healthz", timeout=5).json()["status"] == "ok"
        codes = [f.result().status_code for f in futures]
    assert set(codes) <= {200, 503} and codes.count(200) >= 8, codes
    assert httpx.get(f"{server}/healthz").json()["pending"] == 0


def _chromium() -> tuple[str, str] | None:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    return (browser, driver) if browser and driver else None


@pytest.mark.skipif(
    _chromium() is None, reason="no chromium + chromedriver (.ci/run installs them)"
)
def test_a_person_uses_the_page_in_a_browser(server, photo, tmp_path):
    """Headless Chromium opens the page, chooses the photo, waits for the answer, and
    sees the answer, the reading drawn over the picture and the Grad-CAM."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    browser, driver_path = _chromium()
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--window-size=1280,2400",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    try:
        driver.get(server)
        driver.find_element(By.ID, "file").send_keys(str(photo))
        WebDriverWait(driver, 240).until(
            ec.text_to_be_present_in_element((By.ID, "status"), "done")
        )
        answer = driver.find_element(By.ID, "answer").text
        assert answer.startswith("Answer (fusion of the runs): ")
        loaded = (
            "return [...document.images].filter(i => i.offsetParent)"
            ".map(i => [i.id || i.className, i.naturalWidth])"
        )
        widths = dict(driver.execute_script(loaded))
        assert widths["overlay"] > 800 and widths["leads"] > 500 and widths["gradcam"] > 0
        assert driver.find_element(By.ID, "report").text.count("3x4") == 1
        driver.save_screenshot(str(tmp_path / "page.png"))
        if os.environ.get("ECG_SCREENSHOT"):
            driver.save_screenshot(os.environ["ECG_SCREENSHOT"])
        assert (tmp_path / "page.png").stat().st_size > 10_000
        driver.find_element(By.ID, "file").send_keys(str(ROOT / "README.md"))
        WebDriverWait(driver, 60).until(lambda d: d.find_element(By.ID, "error").text)
        assert "README.md" in driver.find_element(By.ID, "error").text
    finally:
        driver.quit()

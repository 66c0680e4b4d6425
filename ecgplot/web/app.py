"""The web page and its JSON API (FastAPI): drop a picture, a PDF or a MAT record, see
what was read and what the runs say.

Limits: an upload over ``max_upload_mb`` is refused (413) from its length, before it is
read; each upload is written only into a temporary folder of its own, under a name made
here (the client's file name is shown, never used as a path); one upload is analysed at
a time, at most ``max_pending`` wait (503 beyond), and an answer that takes longer than
``timeout_s`` is given up (504) while the server keeps serving.
"""

from __future__ import annotations

import asyncio
import io
import logging
import re
import tempfile
import threading
import uuid
import zipfile
from collections import OrderedDict
from pathlib import Path
from typing import Annotated

import anyio.to_thread
from fastapi import FastAPI, File, HTTPException, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, Response

from ..aiwin import SIGNAL_FORMATS, BadInputError
from ..pictures import PICTURE_SUFFIXES
from .analyse import RECORD_SUFFIX, Analyser, Analysis, load_runs, signal_files

log = logging.getLogger(__name__)
PAGE = Path(__file__).with_name("page.html")
SUFFIXES = (*PICTURE_SUFFIXES, RECORD_SUFFIX)
KEPT_RESULTS = 32  # analyses whose downloads stay available
CHUNK = 1 << 20


def display_name(filename: str | None) -> str:
    """The record name shown for an upload: its file stem, letters, digits, ``-_.``."""
    stem = Path(filename or "upload").stem
    return re.sub(r"[^A-Za-z0-9_.-]", "_", stem)[:64].strip("._") or "upload"


class Server:
    """The loaded runs, the analyses kept for download and the work limits."""

    def __init__(self, runs: list[Path], max_upload_mb: float, timeout_s: float, max_pending: int):
        self.loaded = load_runs(runs)
        self.analyser = Analyser(self.loaded)
        self.max_bytes = int(max_upload_mb * CHUNK)
        self.timeout_s, self.max_pending = timeout_s, max_pending
        self.pending = 0
        self.count_lock = threading.Lock()
        self.results: OrderedDict[str, Analysis] = OrderedDict()

    async def analyse(self, upload: UploadFile) -> dict:
        name = display_name(upload.filename)
        suffix = Path(upload.filename or "").suffix.lower()
        if suffix not in SUFFIXES:
            raise HTTPException(
                415, f"{name}{suffix}: not a file the page reads ({', '.join(SUFFIXES)})"
            )
        with tempfile.TemporaryDirectory(prefix="ecg-upload-") as tmp:
            path = Path(tmp) / f"upload{suffix}"
            await self._save(upload, path, f"{name}{suffix}")
            with self.count_lock:
                if self.pending >= self.max_pending:
                    raise HTTPException(503, "busy: too many uploads waiting, try again shortly")
                self.pending += 1
            try:
                work = anyio.to_thread.run_sync(
                    self._analyse, name, suffix, path, abandon_on_cancel=True
                )
                analysis = await asyncio.wait_for(work, self.timeout_s)
            except asyncio.TimeoutError:  # the work goes on in its thread; its answer is lost
                raise HTTPException(
                    504, f"{name}{suffix}: no answer within {self.timeout_s:.0f} s"
                ) from None
        key = uuid.uuid4().hex
        self.results[key] = analysis
        while len(self.results) > KEPT_RESULTS:
            self.results.popitem(last=False)
        downloads = {fmt: f"/api/download/{key}/{fmt}" for fmt in (*SIGNAL_FORMATS, "answer")}
        return analysis.payload | {"id": key, "downloads": downloads}

    def _analyse(self, name: str, suffix: str, path: Path) -> Analysis:
        try:
            return self.analyser.analyse(name, path)
        except BadInputError as exc:  # the temporary path is no business of the client's
            raise HTTPException(422, f"{name}{suffix}: {exc.problem}") from None
        except Exception as exc:  # a bug or a decoder's surprise: the server keeps serving
            log.exception("analysing %s%s", name, suffix)
            raise HTTPException(
                500, f"{name}{suffix}: not analysed ({type(exc).__name__})"
            ) from None
        finally:
            with self.count_lock:
                self.pending -= 1

    async def _save(self, upload: UploadFile, path: Path, shown: str) -> None:
        size = 0
        with path.open("wb") as fh:
            while chunk := await upload.read(CHUNK):
                size += len(chunk)
                if size > self.max_bytes:
                    raise HTTPException(
                        413, f"{shown}: over the {self.max_bytes / CHUNK:.0f} MB upload limit"
                    )
                fh.write(chunk)
        if size == 0:
            raise HTTPException(422, f"{shown}: an empty file")

    def download(self, key: str, fmt: str) -> Response:
        analysis = self.results.get(key)
        if analysis is None:
            raise HTTPException(404, "no such result (the server keeps the last 32)")
        if fmt == "answer":
            return _attachment(analysis.answer_row.encode(), "answer.csv", "text/csv")
        if fmt not in SIGNAL_FORMATS:
            raise HTTPException(404, f"unknown format {fmt!r}")
        files = signal_files(analysis.name, analysis.signal, fmt)
        if len(files) == 1:
            ((file_name, data),) = files.items()
            return _attachment(data, file_name, "application/octet-stream")
        return _attachment(_zip(files), f"{analysis.name}_wfdb.zip", "application/zip")


def _zip(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return buf.getvalue()


def _attachment(data: bytes, file_name: str, media_type: str) -> Response:
    headers = {"Content-Disposition": f'attachment; filename="{file_name}"'}
    return Response(data, media_type=media_type, headers=headers)


def create_app(
    runs: list[Path], max_upload_mb: float = 25.0, timeout_s: float = 120.0, max_pending: int = 8
) -> FastAPI:
    """The page at ``/``, ``POST /api/predict`` (multipart ``file``), downloads under
    ``/api/download/ID/FORMAT`` and ``GET /healthz``; the runs are loaded once, here."""
    server = Server(runs, max_upload_mb, timeout_s, max_pending)
    app = FastAPI(title="ecg-plot-cls", docs_url="/api/docs")

    @app.middleware("http")
    async def refuse_oversized(request: Request, call_next):
        length = request.headers.get("content-length")
        if request.url.path == "/api/predict" and length and int(length) > server.max_bytes + CHUNK:
            limit = server.max_bytes / CHUNK
            return JSONResponse({"error": f"upload over the {limit:.0f} MB limit"}, status_code=413)
        return await call_next(request)

    @app.exception_handler(HTTPException)
    async def error(_: Request, exc: HTTPException):
        return JSONResponse({"error": exc.detail}, status_code=exc.status_code)

    @app.get("/", response_class=HTMLResponse)
    async def page() -> str:
        return PAGE.read_text(encoding="utf-8")

    @app.get("/healthz")
    async def healthz() -> dict:
        runs = [{"run": r.name, "kind": r.run.cfg.model.kind} for r in server.loaded]
        return {
            "status": "ok",
            "task": server.analyser.task,
            "runs": runs,
            "pending": server.pending,
        }

    @app.post("/api/predict")
    async def predict(file: Annotated[UploadFile, File()]) -> dict:
        return await server.analyse(file)

    @app.get("/api/download/{key}/{fmt}")
    async def download(key: str, fmt: str) -> Response:
        return server.download(key, fmt)

    return app

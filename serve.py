"""A web page on trained runs: drop a picture of a print, a PDF or a MAT record, see what
was read and what the runs say.

    python serve.py --run output/cpu_small_task2 [--run output/features_task2 ...]
        [--host 127.0.0.1] [--port 8000] [--max-upload-mb 25] [--timeout-s 120]

The page (http://HOST:PORT/) shows the picture with the digitised traces and the panels
found drawn over it, the digitise report, the 12 leads as read (unprinted stretches
empty), each run's and the fusion's probabilities and answer, the image models'
Grad-CAM, and downloads of the signal (MAT, WFDB, CSV) and the answer row. The JSON API
under it: POST /api/predict (multipart field "file"), GET /healthz.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ecgplot.aiwin import BadInputError
from ecgplot.logs import setup_logging


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--run", action="append", required=True, type=Path, help="a run folder (repeat)")
    p.add_argument(
        "--host", default="127.0.0.1", help="interface to bind (default: this machine only)"
    )
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--max-upload-mb", type=float, default=25.0, help="largest upload accepted")
    p.add_argument("--timeout-s", type=float, default=120.0, help="longest one answer may take")
    p.add_argument("--log", type=Path, default=Path("output") / "serve.log")
    args = p.parse_args()
    setup_logging(args.log)
    import uvicorn

    from ecgplot.web.app import create_app

    try:
        app = create_app(args.run, args.max_upload_mb, args.timeout_s)
    except (BadInputError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"serving {', '.join(str(r) for r in args.run)} at http://{args.host}:{args.port}/")
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0


if __name__ == "__main__":
    sys.exit(main())

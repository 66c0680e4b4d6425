"""Read pictures of 12-lead ECG prints back into AIWIN records.

    python digitize.py --images DIR --out DIR [--format mat|wfdb|csv] [--skip-bad]
        [--rhythm-leads II] [--mm-per-mv 10]

Each picture NAME.png/.jpg/.tif/.bmp/.webp/.gif/.heic (a scan, a photo or an export of
a 3x4 print with 0-3 rhythm strips, a 6x2 or a 12x1 print at 25 mm/s, turned any way)
and each page of NAME.pdf (NAME_p1, NAME_p2... when it has several) becomes a record in
OUT: NAME.mat (variable ecgdata, float (12, 5000) mV at 500 Hz in AIWIN lead order),
or a WFDB record NAME.hea + NAME.dat, or NAME.csv (time_s and one column per lead, mV);
NaN (empty in CSV) where the print does not show a lead (a 3x4 print shows 2.5 s of
each lead and 10 s of its rhythm strips). OUT/digitize_report.csv has a line for every
file of the folder: the layout found, px per mm, rotation, the gain and where it came
from, and the status (ok, unreadable with why, or skipped: not a picture it reads). A
picture that is not a readable ECG print stops the run with the file and the reason;
with --skip-bad it is listed as unreadable. predict.py --data OUT (MAT) predicts the
records as predict.py --images DIR does.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ecgplot.aiwin import LEADS, SIGNAL_FORMATS, BadInputError
from ecgplot.digitize.folder import digitize_folder
from ecgplot.logs import setup_logging


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--images", required=True, type=Path, help="folder of pictures of prints")
    p.add_argument("--out", required=True, type=Path, help="folder for NAME.mat and the report")
    p.add_argument(
        "--format",
        choices=SIGNAL_FORMATS,
        default="mat",
        help="records as AIWIN MAT (default), WFDB (.hea + .dat) or CSV",
    )
    p.add_argument("--skip-bad", action="store_true", help="list unreadable pictures, go on")
    p.add_argument(
        "--rhythm-leads",
        help="comma-separated rhythm-strip leads of 3x4 prints, top to bottom "
        "(default: II for one strip, II,V1 for two, V1,II,V5 for three)",
    )
    p.add_argument(
        "--mm-per-mv", type=float, help="gain of prints without a calibration pulse (10)"
    )
    args = p.parse_args()
    setup_logging(args.out / "digitize.log")
    rhythm = tuple(args.rhythm_leads.split(",")) if args.rhythm_leads else None
    if rhythm and set(rhythm) - set(LEADS):
        p.error(f"unknown rhythm leads {sorted(set(rhythm) - set(LEADS))}")
    try:
        report = digitize_folder(
            args.images, args.out, args.skip_bad, rhythm, args.mm_per_mv, args.format
        )
    except BadInputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(report.drop(columns=["problem"]).to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())

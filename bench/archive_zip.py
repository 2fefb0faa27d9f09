"""Build a Strava-style bulk export of a folder of FIT files, for timing `runlake import`.

    .venv/bin/python bench/archive_zip.py /work/hist10/home/inbox /tmp/export.zip
    RUNLAKE_HOME=/tmp/h RUNLAKE_LAKE_URI=/tmp/lake /usr/bin/time -v .venv/bin/runlake import /tmp/export.zip

Every `*.fit` under the folder (its `athletes/` folder left out) becomes `activities/<id>.fit.gz`
(gzip level 6, like Strava's), listed in `activities.csv` with a Strava id, name, type and gear.
The folder is only read. Results: bench/RESULTS.md, "Archive import".
"""

from __future__ import annotations

import csv
import gzip
import io
import sys
import zipfile
from pathlib import Path


def build(source: Path, target: Path, first_id: int = 1_000_000) -> int:
    files = sorted(p for p in source.rglob("*.fit") if "athletes" not in p.relative_to(source).parts)
    listing = io.StringIO()
    writer = csv.writer(listing)
    writer.writerow(["Activity ID", "Activity Name", "Activity Type", "Activity Gear", "Filename"])
    with zipfile.ZipFile(target, "w", zipfile.ZIP_STORED) as archive:
        for i, path in enumerate(files):
            member = f"activities/{first_id + i}.fit.gz"
            archive.writestr(member, gzip.compress(path.read_bytes(), compresslevel=6, mtime=0))
            writer.writerow([first_id + i, path.stem, "Run", "Shoe", member])
        archive.writestr("activities.csv", listing.getvalue())
    return len(files)


if __name__ == "__main__":
    print(build(Path(sys.argv[1]), Path(sys.argv[2])), "files")

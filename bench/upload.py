"""Upload benchmark (issue 15): a 10-year watch archive uploaded through `/upload`'s code path.

The synthetic history of BENCH_UPLOAD_YEARS years (default 10, ~5,600 files; cached under
bench/.cache) is zipped in memory (not timed: the runner's computer does that), then the page's
three steps run, each timed, for a registered athlete in an empty lake:

  * unpack  — `pipeline.uploads.unpack` with the default RUNLAKE_UPLOAD_* limits (all checks);
  * stage   — `stage_upload` into the athlete's inbox;
  * ingest  — `ingest_upload`: the FIT ingest under the athlete's lease, then its marts.

It prints the times, files/s, how many progress updates the page would have had, the largest
entry ratio (against RUNLAKE_UPLOAD_MAX_RATIO) and the peak memory of the process.

    python -m bench.upload        # or: python -m bench bench.upload
"""

from __future__ import annotations

import io
import os
import resource
import sys
import tempfile
import time
import zipfile
from pathlib import Path


def zipped_history(files: list[Path]) -> tuple[bytes, float]:
    """The files as one deflated zip in folders by year (as a watch export has them), and the
    largest inflated/compressed ratio of an entry."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in files:
            archive.write(path, f"export/{path.name[:4]}/{path.name}")
        ratio = max(i.file_size / max(i.compress_size, 1) for i in archive.infolist())
    return buffer.getvalue(), ratio


def main() -> None:
    sys.stdout.reconfigure(line_buffering=True)
    from bench.synthetic_cache import cached_history
    from lake.storage import Lake
    from pipeline.athletes import add_athlete
    from pipeline.steps.ingest_upload import ingest_upload, stage_upload
    from pipeline.uploads import MB, UploadLimits, unpack
    from runlake.settings import Settings

    years = float(os.environ.get("BENCH_UPLOAD_YEARS", "10"))
    files = sorted(cached_history(years).glob("*.fit"))
    raw_mb = sum(p.stat().st_size for p in files) / MB
    started = time.perf_counter()
    blob, ratio = zipped_history(files)
    zip_s = time.perf_counter() - started
    print(f"[upload] synthetic history, {years:g} years: {len(files):,} files, {raw_mb:,.0f} MB; "
          f"zip {len(blob) / MB:,.0f} MB (made in {zip_s:.1f} s, not timed), largest entry ratio {ratio:.1f}")

    with tempfile.TemporaryDirectory(prefix="runlake-bench-upload-") as tmp:
        root = Path(tmp)
        settings = Settings(home=root / "home", lake_uri=str(root / "lake"), inbox_uri=str(root / "inbox"))
        lake = Lake.at(settings.lake)
        athlete = add_athlete(lake, settings, "uploader", timezone="Europe/Amsterdam")
        limits = UploadLimits.from_settings(settings)
        updates = []

        t0 = time.perf_counter()
        unpacked = unpack([("export.zip", blob)], limits)
        t1 = time.perf_counter()
        staged = stage_upload(athlete.settings, unpacked.files, strava_csv=unpacked.strava_csv)
        t2 = time.perf_counter()
        report = ingest_upload(lake, athlete, staged.files, strava=staged.strava, refused=unpacked.refused,
                               progress=lambda *p: updates.append(p))
        t3 = time.perf_counter()

    total = t3 - t0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"  unpack              {t1 - t0:8.2f} s  {len(unpacked.files) / (t1 - t0):8,.0f} files/s ({len(unpacked.refused)} refused)")
    print(f"  stage (inbox)       {t2 - t1:8.2f} s  {len(staged.files) / (t2 - t1):8,.0f} files/s")
    print(f"  ingest + marts      {t3 - t2:8.2f} s  {len(staged.files) / (t3 - t2):8,.0f} files/s "
          f"(ingest {report.ingest.seconds:.1f} s, marts {report.marts.seconds:.1f} s)")
    print(f"  total               {total:8.2f} s  {len(files) / total:8,.0f} files/s; {len(updates):,} progress updates")
    print(f"  results: {report.summary()}")
    print(f"  peak resident memory of this process: {peak_mb:,.0f} MB")
    if report.count("ingested") != len(files):
        raise RuntimeError(f"expected {len(files)} files ingested: {report.summary()}")


if __name__ == "__main__":
    main()

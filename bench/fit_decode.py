"""Benchmark: fast FIT decoding (`sources.fit.fast`) against a plain fitparse decode, same run.

Run: `python -m bench.fit_decode [--corpus DIR] [--samples N] [--repeat K]`.

Measures samples (record messages) per second of `decode_messages` and of fitparse reading the
same files' record messages (`list(FitFile(...).get_messages("record"))`, CRC checked), on

* the shared corpus (`<repo>/../shared/data/fit`, top level; files the fast path declines or
  fitparse cannot read are listed and left out of both sides),
* its big file (`muktihari__big_activity.fit`, 99,998 records) when present,
* a synthetic ultra-distance run written with fit-tool (`--samples`, default 40,000 one-second
  samples), generated once and cached under the user cache folder.

The fast side decodes the columns the ingest keeps (`sources.fit.raw.RAW_SCHEMAS`, or a copy of
its essentials before that module is merged), median of `--repeat` runs after a warm-up decode;
"all fields" decodes every profile field of the five message kinds. fitparse runs once.
"""

from __future__ import annotations

import argparse
import io
import platform
import statistics
import time
from pathlib import Path

import fitparse
import polars as pl
from platformdirs import user_cache_dir

from sources.fit.fast import Unsupported, decode_all_fields, decode_messages

REPO = Path(__file__).resolve().parents[1]
BIG_FILE = "muktihari__big_activity.fit"


def default_corpus() -> Path:
    for candidate in (REPO.parent / "shared/data/fit", REPO.parent.parent / "shared/data/fit"):
        if candidate.is_dir():
            return candidate
    return REPO.parent / "shared/data/fit"


def ultra_file(samples: int, cache_dir: Path) -> Path:
    """A fit-tool ultra-distance activity of `samples` records, built once and cached."""
    path = cache_dir / f"ultra_{samples}.fit"
    if not path.exists():
        from tests.sources.fit.fit_samples import fit_tool_activity  # test helper, bench-only use

        cache_dir.mkdir(parents=True, exist_ok=True)
        print(f"generating {path} with fit-tool (once) ...", flush=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(fit_tool_activity(samples))
        tmp.replace(path)
    return path


#: The columns the ingest keeps (as `sources.fit.raw.RAW_SCHEMAS` once merged; this copy of its
#: record/session/lap/file_id/activity essentials is used while that module is absent).
FALLBACK_SCHEMAS = {
    "file_id": pl.Schema({"type": pl.String, "manufacturer": pl.String, "product": pl.Int64,
                          "garmin_product": pl.String, "serial_number": pl.Int64, "time_created": pl.Int64}),
    "session": pl.Schema({"timestamp": pl.Int64, "start_time": pl.Int64, "total_elapsed_time": pl.Float64,
                          "total_timer_time": pl.Float64, "total_distance": pl.Float64, "sport": pl.String,
                          "sub_sport": pl.String, "avg_heart_rate": pl.Float64, "max_heart_rate": pl.Float64,
                          "avg_cadence": pl.Float64, "enhanced_avg_speed": pl.Float64}),
    "lap": pl.Schema({"timestamp": pl.Int64, "start_time": pl.Int64, "total_elapsed_time": pl.Float64,
                      "total_distance": pl.Float64, "avg_heart_rate": pl.Float64}),
    "record": pl.Schema({"timestamp": pl.Int64, "position_lat": pl.Int64, "position_long": pl.Int64,
                         "distance": pl.Float64, "speed": pl.Float64, "enhanced_speed": pl.Float64,
                         "altitude": pl.Float64, "enhanced_altitude": pl.Float64, "heart_rate": pl.Float64,
                         "cadence": pl.Float64, "fractional_cadence": pl.Float64, "power": pl.Float64,
                         "temperature": pl.Float64}),
    "activity": pl.Schema({"timestamp": pl.Int64, "local_timestamp": pl.Int64, "num_sessions": pl.Int64}),
}  # fmt: skip


def ingest_schemas() -> tuple[str, dict[str, pl.Schema]]:
    try:
        from sources.fit.raw import RAW_SCHEMAS
    except ImportError:
        return "bench fallback columns", FALLBACK_SCHEMAS
    return "sources.fit.raw.RAW_SCHEMAS", dict(RAW_SCHEMAS)


def time_fast(blobs: list[bytes], repeat: int, schemas: dict[str, pl.Schema] | None) -> tuple[float, int]:
    """Median seconds to decode all blobs, and the record count."""
    runs, records = [], 0
    for _ in range(repeat):
        started = time.perf_counter()
        decode = decode_all_fields if schemas is None else lambda blob: decode_messages(blob, schemas)
        records = sum(decode(blob)["record"].height for blob in blobs)
        runs.append(time.perf_counter() - started)
    return statistics.median(runs), records


def time_fitparse(blobs: list[bytes]) -> tuple[float, int, list[bytes]]:
    """Seconds and records of fitparse over the blobs it reads, and those blobs."""
    elapsed, records, readable = 0.0, 0, []
    for blob in blobs:
        started = time.perf_counter()
        try:
            count = len(list(fitparse.FitFile(io.BytesIO(blob), check_crc=True).get_messages("record")))
        except fitparse.FitParseError as error:
            print(f"  fitparse cannot read one file ({error}): left out of both sides")
            continue
        elapsed += time.perf_counter() - started
        records += count
        readable.append(blob)
    return elapsed, records, readable


def measure(name: str, blobs: list[bytes], repeat: int, schemas: dict[str, pl.Schema]) -> dict:
    ref_s, ref_records, blobs = time_fitparse(blobs)
    fast_s, fast_records = time_fast(blobs, repeat, schemas)
    all_s, _ = time_fast(blobs, repeat, None)
    row = {
        "set": name,
        "files": len(blobs),
        "samples": fast_records,
        "fast_s": fast_s,
        "fast_sps": fast_records / fast_s,
        "all_fields_sps": fast_records / all_s,
        "fitparse_s": ref_s,
        "fitparse_sps": ref_records / ref_s,
    }
    row["ratio"] = row["fast_sps"] / row["fitparse_sps"]
    if fast_records != ref_records:
        print(f"  note: {name}: fast {fast_records} records vs fitparse {ref_records}")
    return row


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=default_corpus())
    parser.add_argument("--samples", type=int, default=40_000, help="samples of the synthetic ultra file")
    parser.add_argument("--repeat", type=int, default=3, help="fast-path runs (median)")
    parser.add_argument("--cache-dir", type=Path, default=Path(user_cache_dir("runlake")) / "bench")
    args = parser.parse_args(argv)

    schema_name, schemas = ingest_schemas()
    sets: list[tuple[str, list[bytes]]] = []
    if args.corpus.is_dir():
        accepted, declined = [], []
        for path in sorted(args.corpus.glob("*.fit")):
            data = path.read_bytes()
            try:
                decode_messages(data, schemas)
            except Unsupported as error:
                declined.append(f"{path.name}: {error}")
                continue
            accepted.append((path.name, data))
        print(f"corpus {args.corpus}: {len(accepted)} files decoded by the fast path, {len(declined)} declined")
        for line in declined:
            print(f"  declined {line}")
        sets.append(("shared corpus", [data for _, data in accepted]))
        big = [data for name, data in accepted if name == BIG_FILE]
        if big:
            sets.append((BIG_FILE, big))
    else:
        print(f"corpus {args.corpus} absent: skipped")
    ultra = ultra_file(args.samples, args.cache_dir)
    sets.append((f"fit-tool ultra {args.samples} samples", [ultra.read_bytes()]))

    print(f"fast path decodes the ingest's columns ({schema_name}); 'all fields' = every profile field")
    print(f"machine: {platform.node()} {platform.machine()} {platform.processor() or ''} python {platform.python_version()}")
    header = f"{'set':40s} {'files':>5s} {'samples':>8s} {'fast s':>8s} {'fast samples/s':>15s} {'all fields sps':>15s} {'fitparse s':>10s} {'fitparse samples/s':>18s} {'ratio':>7s}"
    print(header)
    for name, blobs in sets:
        row = measure(name, blobs, args.repeat, schemas)
        print(
            f"{row['set']:40s} {row['files']:5d} {row['samples']:8d} {row['fast_s']:8.3f} {row['fast_sps']:15,.0f}"
            f" {row['all_fields_sps']:15,.0f} {row['fitparse_s']:10.2f} {row['fitparse_sps']:18,.0f} {row['ratio']:6.0f}x",
            flush=True,
        )


if __name__ == "__main__":
    main()

"""The demo pipeline: a synthetic athlete's FIT files into the inbox, then ingest and marts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from flows.steps.ingest_fit import IngestReport, ingest_fit_files, resolve_inputs
from lake.storage import Lake
from runlake.errors import RunlakeError
from runlake.settings import Settings

Progress = Callable[[str, int, int | None], None]


@dataclass
class DemoResult:
    inbox: Path
    files: int
    ingest: IngestReport
    notes: list[str] = field(default_factory=list)


def demo_inbox(settings: Settings) -> Path:
    if settings.inbox.startswith("s3://"):
        raise RunlakeError("runlake demo writes its FIT files to a local inbox: unset RUNLAKE_INBOX_URI or point it to a folder")
    return Path(settings.inbox)


def run_demo(lake: Lake, settings: Settings, *, years: float, seed: int, progress: Progress) -> DemoResult:
    from sources.fit.synthetic import generate_history

    inbox = demo_inbox(settings)
    inbox.mkdir(parents=True, exist_ok=True)
    files = generate_history(inbox, years=years, seed=seed, progress=lambda done, total: progress("generating FIT files", done, total))
    items, read_options = resolve_inputs(settings, [str(inbox)])
    done = {"n": 0}

    def on_ingest(n: int) -> None:
        done["n"] += n
        progress("ingesting", done["n"], len(items))

    report = ingest_fit_files(lake, settings, items, read_options=read_options, progress=on_ingest)
    return DemoResult(inbox=inbox, files=len(files), ingest=report)

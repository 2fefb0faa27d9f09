"""`decode_fit`: bytes of a FIT file → `DecodedFile`, or `NotAnActivity`, or `BrokenFitFile`.

Pipeline: `validate_fit` (framing and CRCs of every chained file) → the first decoder that
reads the stream → `normalize`. Decoders, in order:

1. `fast` — `sources.fit.fast.decode_messages(data)` when that module exists; it raises
   `sources.fit.fast.Unsupported` for anything it cannot prove it handles. The usual
   one-session file is decoded and normalised in NumPy by `sources.fit.fast_normalize` (same
   rules, same result, without per-file polars overhead) before this chain is tried;
2. garmin-fit-sdk (the FIT SDK's own decoder; reads the COROS uint32-size-1 file; cannot read
   compressed-timestamp headers);
3. fitdecode; 4. fitparse.

Whichever decoder read the file, `sources.fit.clean.clean_decoded` then nulls hostile values
(HR 0, a 30 m/s run, a GPS teleport, a clock set back) and flags or skips odd sessions.

A decoder failing is not a broken file: the next one is tried (a valid file that one decoder
rejects is not broken); so is a decoder whose output cannot be normalised. Only when every
reference decoder fails is the file `BrokenFitFile`, with the first one's message. Nothing
else escapes, so one odd file can never stop a batch.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from types import ModuleType
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sources.fit.clean import clean_decoded
from sources.fit.model import BrokenFitFile, DecodedFile, NotAnActivity, RawMessages
from sources.fit.normalize import normalize
from sources.fit.reference import REFERENCE_DECODERS, DecoderError, one_line
from sources.fit.validate import FitChunk, validate_fit

log = logging.getLogger(__name__)

Decoder = Callable[[bytes, list[FitChunk]], RawMessages]


def _fast_module() -> ModuleType | None:
    """`sources.fit.fast` if it exists and exposes the hook; None otherwise (a broken fast module
    is logged and skipped: the reference decoders still read the file)."""
    try:
        module = importlib.import_module("sources.fit.fast")
    except ModuleNotFoundError as error:
        if error.name == "sources.fit.fast":
            return None
        log.warning("sources.fit.fast cannot be imported, using the reference decoders: %s", error)
        return None
    except Exception as error:  # noqa: BLE001 - a broken optional accelerator must not stop decoding
        log.warning("sources.fit.fast cannot be imported, using the reference decoders: %s", error)
        return None
    if not hasattr(module, "decode_messages") or not hasattr(module, "Unsupported"):
        return None
    return module


def _decode_common(data: bytes, default_tz: str, fast: ModuleType) -> DecodedFile | None:
    """The usual single-session file decoded and normalised in NumPy (`fast.decode_normalized`,
    see `sources.fit.fast_normalize`); None when the module has no such hook, when it is not
    that case, or when the hook fails (logged: the general path then decodes the file)."""
    hook = getattr(fast, "decode_normalized", None)
    if hook is None:
        return None
    try:
        return hook(data, default_tz)
    except fast.Unsupported:
        raise
    except Exception:  # noqa: BLE001 - a bug here must not stop decoding: the general path decides
        log.warning("fast normalise failed, using the general path", exc_info=True)
        return None


def decoders(fast: ModuleType | None) -> list[tuple[str, Decoder]]:
    """The decoders `decode_fit` tries, in order, as (name, callable(data, chunks))."""
    chain: list[tuple[str, Decoder]] = []
    if fast is not None:
        chain.append(("fast", lambda data, _chunks: fast.decode_messages(data)))
    chain.extend(REFERENCE_DECODERS.items())
    return chain


def check_timezone(default_tz: str) -> ZoneInfo:
    """The IANA zone `default_tz`; ValueError (a configuration error, not a file error) if unknown."""
    try:
        return ZoneInfo(default_tz)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValueError(f"unknown time zone {default_tz!r}") from error


def decode_fit(
    data: bytes, *, default_tz: str = "UTC", use_fast: bool = True, now: datetime | None = None
) -> DecodedFile:
    """Decode one FIT byte stream (possibly chained files) into its cleaned activity sessions.

    `now` (default: the current time) bounds plausible start times (`sources.fit.clean`).

    Raises `NotAnActivity` for a valid FIT file without an activity session, `BrokenFitFile`
    (one line) for anything unreadable, and ValueError only for an unknown `default_tz`
    (a configuration error, checked before any file is read).
    """
    check_timezone(default_tz)
    now = datetime.now(UTC) if now is None else now
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"decode_fit takes bytes, not {type(data).__name__}")
    data = bytes(data)
    chunks = validate_fit(data)
    fast = _fast_module() if use_fast else None
    if fast is not None:
        try:
            common = _decode_common(data, default_tz, fast)
        except fast.Unsupported as error:
            log.debug("fast decoder declined: %s", error)
            fast = None  # the chain below would only decline again
        else:
            if common is not None:
                return clean_decoded(common, now=now)
    failures: list[str] = []
    for name, decoder in decoders(fast):
        try:
            raw = decoder(data, chunks)
        except Exception as error:  # noqa: BLE001 - every decoder failure means: try the next one
            if fast is not None and name == "fast" and isinstance(error, fast.Unsupported):
                log.debug("fast decoder declined: %s", error)
                continue
            message = str(error) if isinstance(error, DecoderError) else f"{name}: {one_line(error)}"
            log.info("decoder %s failed, trying the next one: %s", name, message)
            if name != "fast":
                failures.append(message)
            continue
        try:
            decoded = normalize(raw, decoder=name, default_tz=default_tz)
        except NotAnActivity:
            raise
        except Exception as error:  # noqa: BLE001 - odd raw output: let the next decoder try
            log.warning("normalising %s output failed, trying the next decoder", name, exc_info=True)
            if name != "fast":
                failures.append(f"{name}: cannot normalise: {one_line(error)}")
            continue
        return clean_decoded(decoded, now=now)
    raise BrokenFitFile(f"undecodable by all {len(failures)} reference decoders; first: {failures[0]}")

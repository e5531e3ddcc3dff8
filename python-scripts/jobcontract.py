"""The contract every script in this folder follows, in the standard library only.

Input
    The Job JSON arrives in argv[1] (the seed's way), or in the file named by $JOB_FILE, or on
    stdin, tried in that order. The Worker sends all three; argv is skipped for Jobs over 128 KiB.
Data
    $DATA_FILE, when the Worker sets it (a dataset the Job names or pins by dataSha256), is the data;
    else the Job's dataFileName is looked up in $DATA_DIR, then in python-scripts/data/. Names are
    plain file names.
    CSV files are UTF-8 (a byte-order mark is fine), with unique column names, no row longer than
    the header and no field over csv.field_size_limit() (131,072) characters; anything else is
    answered with a 422 Outcome that says what to fix and where.
Inputs
    $INPUT_DIR, set only when the Job has inputs (artifacts of other jobs, e.g. a model), holds them
    under their plain file names.
Artifacts
    Written to $OUTPUT_DIR when it is set; the Worker uploads every file left there to the Boss.
Output
    Logs go to stderr. The last stdout line is the one Outcome JSON object:
    {"status": 200, "jobId": <the Job's _id>, "loss": ..., "metric": ..., "metricName": ..., ...}
    with finite numbers only. Failures are Outcomes too:
    {"status": 4xx|5xx, "jobId": ..., "error": {"type": ..., "message": ...}}
    Exit code 0 on success, 2 for a bad Job or bad data (4xx), 1 for anything else (5xx).
Progress
    `progress(step, value)` prints an intermediate value as a stdout line
    `##progress {"step": <whole number from 0>, "value": <finite number>}`. The Worker sends these to
    the Boss with its heartbeats (a sweep stops trials whose values lag: the median rule) and never
    takes one for the Outcome. A trial stopped that way gets SIGTERM; it may simply die, and the Worker
    reports its last value as its loss.

Heavy imports (numpy, pandas, torch, sklearn) must come after the Job and the data header have
been checked with this module, so that bad input fails in milliseconds.
"""
from __future__ import annotations

import csv
import json
import math
import os
import sys
import time
import traceback
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

SCRIPTS_DIR = Path(__file__).resolve().parent
FILE_NAME_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")
MISSING = {"", "na", "nan", "null", "none", "n/a"}


class JobError(Exception):
    """A problem with the Job or its data: reported as a 4xx Outcome, never retried by the Boss."""

    def __init__(self, message: str, type_: str = "InvalidJob", status: int = 400):
        super().__init__(message)
        self.type = type_
        self.status = status


def log(*parts: Any) -> None:
    print(*parts, file=sys.stderr, flush=True)


def load_job(argv: Optional[List[str]] = None) -> Dict[str, Any]:
    argv = sys.argv if argv is None else argv
    if len(argv) > 1 and argv[1].strip():
        text, source = argv[1], "argv[1]"
    elif os.environ.get("JOB_FILE"):
        path = Path(os.environ["JOB_FILE"])
        try:
            text, source = path.read_text(encoding="utf-8"), "JOB_FILE"
        except OSError as e:
            raise JobError(f"cannot read JOB_FILE {path}: {e.strerror}") from e
    elif not sys.stdin.isatty():
        text, source = sys.stdin.read(), "stdin"
    else:
        raise JobError("no Job given: pass it as argv[1], in $JOB_FILE or on stdin")
    try:
        job = json.loads(text)
    except json.JSONDecodeError as e:
        raise JobError(f"the Job in {source} is not valid JSON: {e}") from e
    if not isinstance(job, dict):
        raise JobError(f"the Job in {source} must be a JSON object")
    return job


def job_id(job: Dict[str, Any]) -> Any:
    return job.get("_id") if isinstance(job, dict) else None


def safe_file_name(name: Any, field: str) -> str:
    if not isinstance(name, str) or not name or name.startswith(".") or not set(name) <= FILE_NAME_CHARS:
        raise JobError(f"{field} must be a plain file name, got {name!r}")
    return name


def find_data(name: str) -> Path:
    safe_file_name(name, "dataFileName")
    places = [Path(os.environ["DATA_DIR"])] if os.environ.get("DATA_DIR") else []
    places.append(SCRIPTS_DIR / "data")
    for place in places:
        candidate = place / name
        if candidate.is_file():
            return candidate
    raise JobError(f"data file {name!r} not found in {', '.join(str(p) for p in places)}",
                   "DataFileNotFound", 404)


def locate_data(name: Optional[str]) -> Path:
    """The Job's data: $DATA_FILE when set, else `name` (dataFileName) through find_data."""
    if name is not None:
        safe_file_name(name, "dataFileName")
    given = os.environ.get("DATA_FILE")
    if not given:
        if name is None:
            raise JobError("dataFileName is required")
        return find_data(name)
    path = Path(given)
    if not path.is_file():
        raise JobError(f"DATA_FILE {path} is not a file", "DataFileNotFound", 404)
    # For a dataset the Worker sets DATA_FILE to its cached blob, named by its hash, and links
    # DATA_DIR/<dataFileName> to the same bytes: that path is used for its name, which is the one
    # people know and the one the error messages about the data should show.
    if name and os.environ.get("DATA_DIR"):
        named = Path(os.environ["DATA_DIR"]) / name
        try:
            if named.is_file() and os.path.samefile(named, path):
                return named
        except OSError:
            pass
    return path


def input_dir() -> Path:
    """$INPUT_DIR, which must be set and be a directory: a 400 naming it otherwise."""
    value = os.environ.get("INPUT_DIR")
    if not value:
        raise JobError("INPUT_DIR is not set: this Job has no inputs; name the model with "
                       "model: {\"jobId\": ...} so that the Worker fetches it", "MissingInput", 400)
    path = Path(value)
    if not path.is_dir():
        raise JobError(f"INPUT_DIR {path} is not a directory", "MissingInput", 400)
    return path


def output_dir() -> Optional[Path]:
    value = os.environ.get("OUTPUT_DIR")
    if not value:
        return None
    path = Path(value)
    path.mkdir(parents=True, exist_ok=True)
    return path


# "utf-8-sig" reads UTF-8 with or without the byte-order mark Excel writes; without it the mark
# would become part of the first column's name ("\ufeffalcohol"), which no Job names.
CSV_ENCODING = "utf-8-sig"


def open_csv(path: Path):
    return path.open(newline="", encoding=CSV_ENCODING)


def not_utf8(path: Path, error: UnicodeDecodeError) -> JobError:
    """A 422 naming the first byte that is not UTF-8, its line, and what to do about it."""
    with path.open("rb") as f:
        data = f.read(64 << 20)
    where = "past its first 64 MiB"
    try:
        data.decode(CSV_ENCODING)
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        where = f"byte 0x{data[e.start]:02x} on line {line}"
    return JobError(f"data file {path.name} is not UTF-8 text ({where}; Latin-1 or Windows-1252, perhaps); "
                    "save the file as UTF-8 and submit the Job again", "BadEncoding", 422)


def bad_row(path: Path, line: int, fields: int, expected: int) -> JobError:
    return JobError(f"line {line} of {path.name} has {fields} fields but the header has {expected}; "
                    "a value with a comma in it must be quoted", "BadRow", 422)


def unreadable_row(path: Path, line: int, error: csv.Error) -> JobError:
    """A 422 for what the csv module cannot read at all: a field over its size limit (often a quote
    left open, which makes the rest of the file one field), a NUL byte."""
    return JobError(f"line {line} of {path.name} cannot be read as CSV ({error}); a quote left open makes "
                    "the rest of the file one field, and no field may be longer than "
                    f"{csv.field_size_limit()} characters", "BadRow", 422)


def read_header(path: Path) -> List[str]:
    reader = None
    try:
        with open_csv(path) as f:
            reader = csv.reader(f)
            header = next(reader, None)
    except UnicodeDecodeError as e:
        raise not_utf8(path, e) from e
    except csv.Error as e:
        raise unreadable_row(path, reader.line_num if reader else 1, e) from e
    if not header:
        raise JobError(f"data file {path.name} is empty", "BadData", 422)
    seen: Dict[str, int] = {}
    for name in header:
        seen[name] = seen.get(name, 0) + 1
    repeated = [name for name, count in seen.items() if count > 1]
    if repeated:
        raise JobError(f"data file {path.name} has more than one column named " + ", ".join(repr(n) for n in repeated)
                       + "; give every column its own name", "DuplicateColumn", 422)
    return header


def rows(path: Path, limit: Optional[int] = None):
    """The data rows as dicts, raising a 422 for text that is not UTF-8 or a row longer than the header."""
    reader = None
    try:
        with open_csv(path) as f:
            reader = csv.DictReader(f)
            for i, row in enumerate(reader):
                if limit is not None and i >= limit:
                    return
                if None in row:  # DictReader keeps the fields beyond the header under None
                    width = len(reader.fieldnames or [])
                    raise bad_row(path, reader.line_num, width + len(row[None]), width)
                yield row
    except UnicodeDecodeError as e:
        raise not_utf8(path, e) from e
    except csv.Error as e:
        # DictReader.line_num moves only after a row it could read; its reader's counts every line taken.
        raise unreadable_row(path, reader.reader.line_num if reader else 1, e) from e


def scan_values(path: Path, columns: List[str], limit: int = 2000) -> Dict[str, str]:
    """Checks the first `limit` rows of `columns` are numbers; returns column -> 'nan' or 'text'."""
    problems: Dict[str, str] = {}
    for row in rows(path, limit):
        for column in columns:
            value = (row.get(column) or "").strip()
            if value.lower() in MISSING:
                problems.setdefault(column, "nan")
                continue
            try:
                if not math.isfinite(float(value)):
                    problems.setdefault(column, "nan")
            except ValueError:
                problems[column] = "text"
    return problems


def count_in_range(path: Path, column: str, low: Optional[float], high: Optional[float]) -> int:
    """Counts rows whose `column` is a number within [low, high] (either bound may be None)."""
    kept = 0
    for row in rows(path):
        try:
            value = float(row.get(column) or "nan")
        except ValueError:
            continue
        if math.isfinite(value) and (low is None or value >= low) and (high is None or value <= high):
            kept += 1
    return kept


def finite(value: Any) -> Any:
    """Returns value with every float checked finite; raises ValueError naming the first that is not."""
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"non-finite number {value}")
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite(v) for v in value]
    return value


PROGRESS_PREFIX = "##progress "


def progress(step: int, value: float) -> None:
    """Reports `value` (in the units of the Outcome's loss) at `step` as a progress line; a non-finite
    value is not reported. One write, flushed: nothing printed meanwhile (a signal handler's line) can
    land inside it."""
    value = float(value)
    if step < 0 or not math.isfinite(value):
        return
    sys.stdout.write(PROGRESS_PREFIX + json.dumps({"step": int(step), "value": value}) + "\n")
    sys.stdout.flush()


def emit(outcome: Dict[str, Any]) -> None:
    """Prints the Outcome as the last stdout line."""
    sys.stdout.flush()
    print(json.dumps(outcome, allow_nan=False, separators=(",", ":")), flush=True)


def error_outcome(job: Any, status: int, type_: str, message: str) -> Dict[str, Any]:
    return {"status": status, "jobId": job_id(job), "error": {"type": type_, "message": message}}


def seed_everything(seed: int) -> None:
    """Seeds Python's random, NumPy's global generator and, once a script has imported it, torch's, so
    that code drawing from the global generators repeats itself for the Job's `seed`. Call it after
    the heavy imports: importing torch does not reseed, but a module imported later may draw first."""
    import random

    random.seed(seed)
    numpy = sys.modules.get("numpy")
    if numpy is None:
        try:
            import numpy
        except ImportError:
            numpy = None
    if numpy is not None:
        numpy.random.seed(seed % 2**32)
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.manual_seed(seed)


def run(main: Callable[[Dict[str, Any]], Dict[str, Any]]) -> None:
    """Loads the Job, runs `main(job)`, prints its Outcome (or an error Outcome) and exits."""
    started = time.monotonic()
    job: Any = None
    try:
        job = load_job()
        outcome = main(job)
        outcome.setdefault("status", 200)
        outcome.setdefault("jobId", job_id(job))
        outcome.setdefault("durationSeconds", round(time.monotonic() - started, 3))
        try:
            emit(finite(outcome))
        except ValueError as e:
            emit(error_outcome(job, 500, "NonFiniteResult", f"the script produced {e}"))
            sys.exit(1)
    except JobError as e:
        log(f"job error: {e}")
        emit(error_outcome(job, e.status, e.type, str(e)))
        sys.exit(2)
    except Exception as e:  # the Outcome must come out whatever happened
        traceback.print_exc(file=sys.stderr)
        emit(error_outcome(job, 500, type(e).__name__, str(e)[:2000]))
        sys.exit(1)


# --- small typed readers for Job fields, each naming the field in its error -----------------------

def get_str(job: Dict[str, Any], key: str, default: Optional[str] = None, choices: Optional[List[str]] = None,
            aliases: Optional[Dict[str, str]] = None) -> Optional[str]:
    """A string field; with `choices`, one of them, matched regardless of case (Keras' "Adam" is
    "adam") or through `aliases` (lower-case spelling -> choice), and returned as the choice."""
    value = job.get(key, default)
    if value is None:
        return None
    if not isinstance(value, str):
        raise JobError(f"{key} must be a string, got {value!r}")
    if choices is None or value in choices:
        return value
    folded = value.strip().lower()
    for choice in choices:
        if choice.lower() == folded:
            return choice
    if aliases and folded in aliases:
        return aliases[folded]
    known = ", ".join(choices) + (f" (or {', '.join(sorted(aliases))})" if aliases else "")
    raise JobError(f"unknown {key} {value!r}; use one of {known}")


def get_number(job: Dict[str, Any], key: str, default: Optional[float] = None, low: Optional[float] = None,
               high: Optional[float] = None, integer: bool = False) -> Optional[float]:
    value = job.get(key, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise JobError(f"{key} must be a number, got {value!r}")
    if integer and value != int(value):
        raise JobError(f"{key} must be a whole number, got {value!r}")
    if (low is not None and value < low) or (high is not None and value > high):
        raise JobError(f"{key} must be between {low} and {high}, got {value!r}")
    return int(value) if integer else float(value)


def get_bool(job: Dict[str, Any], key: str, default: bool) -> bool:
    value = job.get(key, default)
    if not isinstance(value, bool):
        raise JobError(f"{key} must be true or false, got {value!r}")
    return value

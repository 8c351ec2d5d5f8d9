"""The bad-input matrix: every command × every kind of bad input, run through the command line.

Each case runs one command on one broken input (or towards an output it cannot write) and checks
what a user must see: exit code 2, one line on stderr, no traceback, nothing on stdout, and the
earlier output (``--overwrite`` of an existing file, or the user gazetteers) byte-identical
afterwards. A UTF-16 input with a byte-order mark is not broken: the command must give exactly
the output of its UTF-8 original.

The kinds (:data:`KINDS`): a missing file, a directory, an empty file, a binary file, bytes that are
not UTF-8, UTF-16, a malformed file (a table without its columns, truncated JSON), a date that is
impossible or outside the data, and an output folder that refuses files.

Used by ``tests/test_input_matrix.py`` (one test per case) and ``scripts/eval_inputs.py`` (``make
eval`` prints the count tried and passed). ``invoke`` runs the CLI in this process through click's
test runner, so the 70-odd cases take seconds, not minutes of interpreter start-ups.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

#: Every kind of bad input, in the order of the matrix's columns.
KINDS = ("missing", "directory", "empty", "binary", "bad_utf8", "utf16", "malformed", "bad_date", "unwritable")
#: The earlier output that a failed run must leave byte-identical.
EARLIER = b"an earlier output, to be kept byte for byte\n"
BINARY = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00" + bytes(range(256))

_BOX_A = [[[36.5, 35.7], [36.7, 35.7], [36.7, 35.9], [36.5, 35.9], [36.5, 35.7]]]
_BOX_B = [[[36.7, 35.7], [36.9, 35.7], [36.9, 35.9], [36.7, 35.9], [36.7, 35.7]]]


def _features(rows: list[tuple[dict, list]]) -> bytes:
    fc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": props, "geometry": {"type": "Polygon", "coordinates": coords}}
        for props, coords in rows]}
    return json.dumps(fc, ensure_ascii=False).encode("utf-8")


TIMELINE = _features([({"actor": "government", "date": "2020-01-01"}, _BOX_A),
                      ({"actor": "opposition", "date": "2020-01-01"}, _BOX_B),
                      ({"actor": "government", "date": "2020-02-01"}, _BOX_A),
                      ({"actor": "government", "date": "2020-02-01"}, _BOX_B)])
PER_DATE = _features([({"name": "Ḥalab front"}, _BOX_A)])
TRUNCATED = TIMELINE[: len(TIMELINE) // 2]


@dataclass(frozen=True)
class Command:
    """One command of the matrix: its good input and how to break it.

    ``argv(input, output)`` is the command line; ``malformed`` a broken version of the input (None:
    the kind does not apply); ``bad_date`` either bytes (an input with an impossible date), a
    string (the input's file name carries the date) or a callable giving the command line.
    """

    name: str
    input_name: str | None
    valid: bytes
    argv: Callable[[str, str], list[str]]
    output_suffix: str | None
    malformed: bytes | None = None
    bad_date: bytes | str | Callable[[str, str], list[str]] | None = None

    @property
    def command(self) -> str:
        """The CLI command (``places`` for both ``places`` and ``places -o DIR/``)."""
        return self.name.split(" -o ")[0]

    @property
    def dataset(self) -> bool:
        """Whether the output is a partitioned dataset (a directory) rather than one file."""
        return self.output_suffix == "/"

    def kinds(self) -> tuple[str, ...]:
        if self.input_name is None:  # geocode: names, not files
            return ("missing", "empty", "unwritable")
        skip = {"malformed"} if self.malformed is None else set()
        skip |= {"bad_date"} if self.bad_date is None else set()
        return tuple(k for k in KINDS if k not in skip)


def _out(*argv: str) -> Callable[[str, str], list[str]]:
    return lambda inp, out: [a.replace("{in}", inp).replace("{out}", out) for a in argv]


COMMANDS = (
    Command("places", "report.txt", "IDLIB, Feb. 20, 2020 — Troops entered Saraqeb near إدلب.\n".encode(),
            _out("places", "{in}", "-o", "{out}", "--overwrite"), ".csv",
            bad_date=_out("places", "{in}", "--date", "2020-02-31", "-o", "{out}", "--overwrite")),
    Command("map", "report.txt", b"IDLIB, Feb. 20, 2020 - Troops entered Saraqeb.\n",
            _out("map", "{in}", "--date", "2020-02-20", "-o", "{out}", "--overwrite"), ".html",
            bad_date=_out("map", "{in}", "--date", "2099-01-01", "-o", "{out}", "--overwrite")),
    Command("geocode", None, b"", _out("geocode", "Saraqeb", "-o", "{out}", "--overwrite"), ".json"),
    Command("join", "events.csv", "date,lat,lon,note\n2020-02-20,35.86447,36.80591,Sarāqib\n".encode(),
            _out("join", "{in}", "-o", "{out}", "--overwrite"), ".csv",
            malformed=b"date,lat,lon\n2020-02-20,north,36.8\n",
            bad_date=b"date,lat,lon\n2020-02-31,35.86447,36.80591\n"),
    Command("change", "timeline.geojson", TIMELINE,
            _out("change", "--areas", "{in}", "--from", "2020-01-01", "--to", "2020-02-01", "-o", "{out}",
                 "--overwrite"), ".geojson", malformed=TRUNCATED,
            bad_date=_out("change", "--areas", "{in}", "--from", "2020-01-01", "--to", "2020-02-30", "-o", "{out}",
                          "--overwrite")),
    Command("areas at", "timeline.geojson", TIMELINE,
            _out("areas", "at", "{in}", "--date", "2020-01-15", "-o", "{out}", "--overwrite"), ".geojson",
            malformed=TRUNCATED,
            bad_date=_out("areas", "at", "{in}", "--date", "1999-01-01", "-o", "{out}", "--overwrite")),
    Command("areas build", "front_20200101.geojson", PER_DATE,
            _out("areas", "build", "{in}", "--actor", "russia", "-o", "{out}", "--overwrite"), ".gpkg",
            malformed=PER_DATE[: len(PER_DATE) // 2], bad_date="front_20201345.geojson"),
    Command("areas infer", "observations.csv",
            b"date,actor,lat,lon\n2020-01-01,government,35.86447,36.80591\n2020-01-01,opposition,35.93062,36.63393\n",
            _out("areas", "infer", "{in}", "--within", "Idlib", "-o", "{out}", "--overwrite"), ".gpkg",
            malformed=b"date,lat,lon\n2020-01-01,35.86447,36.80591\n",
            bad_date=b"date,actor,lat,lon\n2020-02-31,government,35.86447,36.80591\n"),
    # partitioned runs (-o DIR/, this process): the earlier dataset must survive --overwrite
    Command("places -o DIR/", "report.txt", "IDLIB, Feb. 20, 2020 — Troops entered Saraqeb near إدلب.\n".encode(),
            _out("places", "{in}", "-o", "{out}/", "--overwrite"), "/",
            bad_date=_out("places", "{in}", "--date", "2020-02-31", "-o", "{out}/", "--overwrite")),
    Command("join -o DIR/", "events.csv", "date,lat,lon,note\n2020-02-20,35.86447,36.80591,Sarāqib\n".encode(),
            _out("join", "{in}", "-o", "{out}/", "--overwrite"), "/",
            malformed=b"date,lat,lon\n2020-02-20,north,36.8\n",
            bad_date=b"date,lat,lon\n2020-02-31,35.86447,36.80591\n"),
    Command("gazetteer add", "villages.csv", "name,lat,lon\nTell Ḥamra,35.91,36.62\n".encode(),
            _out("gazetteer", "add", "{in}", "--name", "villages"), None,
            malformed=b"name,lat\nTell Hamra,35.91\n"),
)


def cases() -> list[tuple[Command, str]]:
    """Every (command, kind) of the matrix."""
    return [(c, k) for c in COMMANDS for k in c.kinds()]


def case_id(case: tuple[Command, str]) -> str:
    return f"{case[0].name.replace(' ', '_')}-{case[1]}"


# --------------------------------------------------------------------------- an unwritable folder
@contextlib.contextmanager
def unwritable(folder: Path) -> Iterator[Path]:
    """``folder`` made to refuse new files for the block, with what it holds kept readable.

    As root (which every permission lets write) the folder is made immutable (``chattr +i``);
    otherwise its write permission is taken away.
    """
    if os.geteuid() == 0:
        done = subprocess.run(["chattr", "+i", str(folder)], capture_output=True, text=True)
        if done.returncode:
            raise RuntimeError(f"chattr +i {folder} failed ({done.stderr.strip()}): cannot make an unwritable "
                               "folder as root on this file system")
        try:
            yield folder
        finally:
            subprocess.run(["chattr", "-i", str(folder)], check=True)
    else:
        folder.chmod(0o555)
        try:
            yield folder
        finally:
            folder.chmod(0o755)


# --------------------------------------------------------------------------- one case
@dataclass
class Outcome:
    ok: bool
    why: str  # what failed, or "" when the case passed
    exit_code: int
    stderr: str


def run_case(command: Command, kind: str, work: Path, invoke, seed_gazetteers: Path | None = None) -> Outcome:
    """Run one case in the empty folder ``work``. ``invoke(argv, env) -> (exit_code, stdout, stderr)``.

    ``seed_gazetteers``: a user gazetteer file (user.sqlite) each gazetteer case starts from.
    """
    home = work / "home"
    (home / "gazetteers").mkdir(parents=True)
    if seed_gazetteers is not None:
        shutil.copyfile(seed_gazetteers, home / "gazetteers" / "user.sqlite")
    env = {"GEO_IDLIB_HOME": str(home)}
    outdir = work / "out"
    outdir.mkdir()
    output = outdir / ("result" if command.dataset else f"result{command.output_suffix or ''}")
    kept = output if command.output_suffix else home / "gazetteers" / "user.sqlite"
    if command.dataset:  # an earlier dataset: one partition, in the directory made unwritable below
        output.mkdir()
        kept = output / "part-000000.parquet"
    if command.output_suffix:
        kept.write_bytes(EARLIER)
    inp = work / (command.input_name or "none")
    argv = command.argv(str(inp), str(output))
    if command.input_name is not None:
        _write_input(command, kind, inp)
        if kind == "bad_date" and isinstance(command.bad_date, str):
            inp = inp.with_name(command.bad_date)
            inp.write_bytes(command.valid)
            argv = command.argv(str(inp), str(output))
        elif kind == "bad_date" and callable(command.bad_date):
            argv = command.bad_date(str(inp), str(output))
    else:
        argv = {"missing": argv[:1] + argv[2:], "empty": [argv[0], ""] + argv[2:]}.get(kind, argv)
    before = kept.read_bytes() if kept.exists() else None
    if kind == "utf16":
        return _same_as_utf8(command, inp, argv, invoke, env)
    if kind == "unwritable":
        with unwritable(kept.parent):
            code, out, err = invoke(argv, env)
    else:
        code, out, err = invoke(argv, env)
    after = kept.read_bytes() if kept.exists() else None
    lines = err.strip().splitlines()
    problems = [why for why, bad in (
        (f"exit {code}, not 2", code != 2), (f"{len(lines)} lines on stderr, not 1", len(lines) != 1),
        ("a traceback", "Traceback" in err), ("output on stdout", out != ""),
        ("the earlier output changed", before != after)) if bad]
    return Outcome(not problems, "; ".join(problems), code, err.strip())


def _write_input(command: Command, kind: str, inp: Path) -> None:
    data = {"empty": b"", "binary": BINARY, "bad_utf8": command.valid.replace(b"a", b"\xe9", 1),
            "utf16": command.valid.decode("utf-8").encode("utf-16"), "malformed": command.malformed,
            "bad_date": command.bad_date if isinstance(command.bad_date, bytes) else command.valid}.get(
        kind, command.valid)
    if kind == "missing":
        return
    if kind == "directory":
        inp.mkdir()
        return
    inp.write_bytes(data)


def _same_as_utf8(command: Command, inp: Path, argv: list[str], invoke, env: dict) -> Outcome:
    """UTF-16 input (a byte-order mark first) gives the very output of the UTF-8 original."""
    results = []
    for encoding in ("utf-8", "utf-16"):
        inp.write_bytes(command.valid.decode("utf-8").encode(encoding))
        code, out, err = invoke(argv, env)
        if command.dataset:
            folder = Path(argv[argv.index("-o") + 1])
            produced = b"".join(f.name.encode() + f.read_bytes() for f in sorted(folder.glob("*.parquet")))
        elif command.output_suffix:
            produced = Path(argv[argv.index("-o") + 1]).read_bytes()
        else:
            listing = invoke(["gazetteer", "list", "--json"], env)[1]
            produced = json.dumps([{k: g[k] for k in ("name", "rows", "format")} for g in json.loads(listing)])
            invoke(["gazetteer", "remove", "villages"], env)
        results.append((code, produced))
    (code8, out8), (code16, out16) = results
    problems = [why for why, bad in ((f"UTF-8 original exit {code8}", code8 != 0),
                                     (f"UTF-16 exit {code16}", code16 != 0),
                                     ("UTF-16 output differs from the UTF-8 output", out8 != out16)) if bad]
    return Outcome(not problems, "; ".join(problems), code16, "")


def cli_invoke(argv: list[str], env: dict) -> tuple[int, str, str]:
    """Run ``geo-idlib ARGV`` in this process (click's test runner) with ``env`` set; an exception
    that escapes the command counts as a traceback on stderr."""
    import traceback

    from click.testing import CliRunner

    from geo_idlib.cli import cli

    r = CliRunner().invoke(cli, argv, env=env)
    err = r.stderr
    if r.exception is not None and not isinstance(r.exception, SystemExit):
        err += "".join(traceback.format_exception(r.exception))
    return r.exit_code, r.stdout, err


def seed_gazetteers(folder: Path, invoke=cli_invoke) -> Path:
    """A user gazetteer index holding one small gazetteer (the earlier state `gazetteer add` keeps)."""
    home = folder / "seed"
    home.mkdir(parents=True)
    src = home / "seed.csv"
    src.write_text("name,lat,lon\nKafr Seed,35.80,36.60\n", encoding="utf-8")
    code, _, err = invoke(["gazetteer", "add", str(src)], {"GEO_IDLIB_HOME": str(home)})
    if code:
        raise RuntimeError(f"could not seed the user gazetteers: {err.strip()}")
    return home / "gazetteers" / "user.sqlite"

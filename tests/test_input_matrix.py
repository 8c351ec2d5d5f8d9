"""The bad-input matrix as a test: every command (and the partitioned runs of places and join,
-o DIR/) × missing, directory, empty, binary, bad UTF-8, UTF-16, malformed, out-of-range dates and
unwritable output (scripts/input_matrix.py).

Each bad case: exit 2, one line on stderr, no traceback, nothing on stdout, and the earlier output
(an existing -o file replaced with --overwrite, or the user gazetteers) byte-identical. UTF-16 with
a byte-order mark is read: the output equals the UTF-8 original's. `make eval` prints the count.
"""

from __future__ import annotations

import pytest

from scripts import input_matrix as matrix


@pytest.fixture(scope="module")
def seed(tmp_path_factory):
    return matrix.seed_gazetteers(tmp_path_factory.mktemp("seed"))


@pytest.mark.parametrize("case", matrix.cases(), ids=matrix.case_id)
def test_bad_input(case, tmp_path, seed):
    command, kind = case
    outcome = matrix.run_case(command, kind, tmp_path, matrix.cli_invoke,
                              seed if command.name == "gazetteer add" else None)
    assert outcome.ok, f"{command.name} × {kind}: {outcome.why} — stderr: {outcome.stderr}"
    if kind != "utf16":
        assert outcome.stderr.startswith("Error: ")


def test_the_matrix_covers_every_command_and_kind():
    from geo_idlib.cli import cli

    def leaves(group, prefix=""):
        for name, cmd in group.commands.items():
            if hasattr(cmd, "commands"):
                yield from leaves(cmd, f"{prefix}{name} ")
            else:
                yield f"{prefix}{name}"

    # these read no file and write none (fetch reads a URL: its bad inputs are in test_gazetteer_fetch.py)
    reading = set(leaves(cli)) - {"gazetteer list", "gazetteer remove", "gazetteer fetch", "gazetteer activate",
                                  "gazetteer deactivate"}
    assert {c.command for c in matrix.COMMANDS} == reading
    assert {c.command for c in matrix.COMMANDS if c.dataset} == {"places", "join"}  # and their -o DIR/ runs
    assert {k for _, k in matrix.cases()} == set(matrix.KINDS)
    assert len(matrix.cases()) == 89

"""The ``geo-idlib`` command: a thin click shell over :mod:`geo_idlib.pipeline`.

Each command parses its options, calls one pipeline function and reports. Shared options are
defined once below. A :class:`~geo_idlib.errors.GeoIdlibError` becomes a one-line message on stderr
and exit code 2 (bad input) or 1 (anything else); never a traceback.
"""

from __future__ import annotations

import logging
import sys

import click

from . import __version__, pipeline
from .errors import GeoIdlibError

log = logging.getLogger("geo_idlib")


class _UserError(click.ClickException):
    def __init__(self, message: str, exit_code: int):
        super().__init__(message)
        self.exit_code = exit_code


class _Group(click.Group):
    """A group whose commands turn GeoIdlibError (and unexpected errors) into one-line messages."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except GeoIdlibError as exc:
            raise _UserError(str(exc), exc.exit_code) from None
        except (click.ClickException, click.exceptions.Exit, click.Abort, KeyboardInterrupt):
            raise
        except Exception as exc:  # a bug: say so in one line, keep the traceback for -v
            if log.isEnabledFor(logging.DEBUG):
                raise
            raise _UserError(f"internal error: {type(exc).__name__}: {exc} (rerun with -v for details)", 1) from None


def _setup_logging(verbose: int, quiet: bool) -> None:
    level = logging.ERROR if quiet else (logging.DEBUG if verbose > 1 else logging.INFO if verbose else logging.WARNING)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("geo-idlib: %(levelname)s: %(message)s"))
    log.handlers[:] = [handler]
    log.setLevel(level)
    log.propagate = False


def _progress_factory(quiet: bool):
    """A progress-bar factory for pipeline functions: on stderr, and only when stderr is a terminal."""

    def progress(items, label: str, length: int | None = None):
        if quiet or not sys.stderr.isatty():
            return pipeline.no_progress(items, label, length)
        return click.progressbar(items, label=label, length=length, file=sys.stderr)

    return progress


# --------------------------------------------------------------------------- shared options
def output_option(required: bool = False, help: str = "Output file (format from its suffix)."):
    return click.option("-o", "--output", "output", type=click.Path(dir_okay=False), required=required,
                        help=help + ("" if required else " Without -o, output goes to stdout."))


overwrite_option = click.option("--overwrite", is_flag=True, default=False,
                                help="Replace OUTPUT if it exists (default: refuse).")
country_option = click.option("--country", "country", metavar="CC", default=None,
                              help="Context country (ISO 3166-1 alpha-2, e.g. SY) for disambiguation.")


def date_option(name: str = "--date", help: str = "Date (YYYY-MM-DD)."):
    return click.option(name, type=str, default=None, metavar="YYYY-MM-DD", help=help)


def format_option(choices: tuple[str, ...], default: str):
    return click.option("--format", "fmt", type=click.Choice(choices), default=default, show_default=True,
                        help="Output format.")


def emit(text: str, output: str | None, overwrite: bool) -> None:
    """Write ``text`` to OUTPUT atomically, or to stdout when no -o was given."""
    if output:
        pipeline.write_output(text, output, overwrite)
        log.info("wrote %s", output)
    else:
        click.echo(text, nl=not text.endswith("\n"))


# --------------------------------------------------------------------------- the group
@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, "--version", prog_name="geo-idlib")
@click.option("-v", "--verbose", count=True, help="More messages on stderr (-vv for debug).")
@click.option("-q", "--quiet", is_flag=True, help="Only errors on stderr; no progress bars.")
@click.pass_context
def cli(ctx, verbose: int, quiet: bool):
    """Map conflict reports: find the places a report names, join them to who controlled the
    ground on the report's date, measure territory gained and lost in km², and draw it all as an
    offline Leaflet map.

    \b
    Typical use:
      geo-idlib places report.txt                      # places as GeoJSON on stdout
      geo-idlib map report.txt --date 2020-02-20 -o map.html
      geo-idlib change --from 2019-12-19 --to 2020-02-20 --json
    """
    _setup_logging(verbose, quiet)
    ctx.obj = {"progress": _progress_factory(quiet), "quiet": quiet}


def main(argv=None) -> None:
    """Console-script entry point."""
    cli.main(args=argv, prog_name="geo-idlib")


# ============================================================================ places / geocode
# (commands: places, geocode, gazetteer add|list|remove)


# ============================================================================ areas / join / change
# (commands: areas build|at|infer, join, change)


# ============================================================================ map
# (command: map)

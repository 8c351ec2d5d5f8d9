"""The ``geo-idlib`` command: a thin click shell over :mod:`geo_idlib.pipeline`.

Each command parses its options, calls one pipeline function and reports. Shared options are
defined once below. A :class:`~geo_idlib.errors.GeoIdlibError` becomes a one-line message on stderr
and exit code 2 (bad input) or 1 (anything else); never a traceback. Usage errors (a missing
argument, a bad option value) are one line too. Every command and group has ``--version``, and
every command first removes the temporary files of runs that were killed
(:func:`geo_idlib.pipeline.remove_stale_temps`).
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


class _UsageError(click.UsageError):
    """A usage error shown as one line (click shows the usage and a hint on three more)."""

    def show(self, file=None) -> None:
        where = f"; see {self.ctx.command_path} -h" if self.ctx is not None else ""
        click.echo(f"Error: {self.format_message().rstrip('.')}{where}", err=True, file=file)


def _one_line(exc: click.UsageError) -> click.UsageError:
    if isinstance(exc, (_UsageError, click.exceptions.NoArgsIsHelpError)):
        return exc
    return _UsageError(exc.format_message(), exc.ctx)


def _show_version(ctx, param, value) -> None:
    if value and not ctx.resilient_parsing:
        click.echo(f"geo-idlib, version {__version__}")
        ctx.exit()


def _version_option() -> click.Option:
    return click.Option(["--version"], is_flag=True, expose_value=False, is_eager=True, callback=_show_version,
                        help="Show the version and exit.")


class _OneLine:
    """--version on every command and group, and usage errors on one line."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.params.append(_version_option())

    def parse_args(self, ctx, args):
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as exc:
            raise _one_line(exc) from None


class _Command(_OneLine, click.Command):
    """A command that first removes the temporary files of killed runs (in its output's folder,
    the cache and the data dir)."""

    def invoke(self, ctx):
        pipeline.remove_stale_temps(ctx.params.get("output"))
        return super().invoke(ctx)


class _Group(_OneLine, click.Group):
    """A group whose commands turn GeoIdlibError (and unexpected errors) into one-line messages."""

    command_class = _Command
    group_class = type  # subgroups are _Group too

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except GeoIdlibError as exc:
            raise _UserError(str(exc), exc.exit_code) from None
        except click.UsageError as exc:
            raise _one_line(exc) from None
        except (click.ClickException, click.exceptions.Exit, click.Abort, KeyboardInterrupt):
            raise
        except Exception as exc:  # a bug: say so in one line, keep the traceback for -v
            if log.isEnabledFor(logging.DEBUG):
                raise
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            raise _UserError(f"internal error: {type(exc).__name__}: {first} (rerun with -v for details)", 1) from None


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
        return click.progressbar(items, label=label, length=length, file=sys.stderr, show_pos=True,
                                 item_show_func=_progress_status)

    return progress


def _progress_status(item) -> str | None:
    """The text shown after a progress bar: the rate a partitioned run reports (``status``)."""
    return getattr(item, "status", None) or None


# --------------------------------------------------------------------------- shared options
def output_option(required: bool = False, help: str = "Output file (format from its suffix).", dir_okay: bool = False):
    return click.option("-o", "--output", "output", type=click.Path(dir_okay=dir_okay), required=required,
                        help=help + ("" if required else " Without -o, output goes to stdout."))


overwrite_option = click.option("--overwrite", is_flag=True, default=False,
                                help="Replace OUTPUT if it exists (default: refuse).")
country_option = click.option("--country", "country", metavar="CC", default=None,
                              help="Context country (ISO 3166-1 alpha-2, e.g. SY) for disambiguation.")
gazetteer_option = click.option("--gazetteer", "gazetteers", multiple=True, metavar="NAME",
                                help="Use this user gazetteer (repeatable; 'all' or 'none'). Default: the active "
                                     "ones (geo-idlib gazetteer list).")


def date_option(name: str = "--date", help: str = "Date (YYYY-MM-DD)."):
    return click.option(name, type=str, default=None, metavar="YYYY-MM-DD", help=help)


def format_option(choices: tuple[str, ...], stdout: str | None = None):
    """--format: overrides the format OUTPUT's suffix gives; ``stdout`` is the format without -o."""
    return click.option("--format", "fmt", type=click.Choice(choices), default=None,
                        help="Output format (default: from the suffix of -o"
                             + (f"; {stdout} on stdout)." if stdout else ")."))


raw_csv_option = click.option("--raw-csv", is_flag=True, default=False,
                              help="CSV cells exactly as they are. Default: a cell that would start a "
                                   "spreadsheet formula (= + - @) gets a leading ' (OWASP).")


def scale_options(f):
    """--workers, --scheduler, --resume, --skip-bad: partitioned runs (-o DIR/, see docs/scale.md)."""
    for opt in reversed([
        click.option("--workers", type=click.IntRange(min=1), default=None, metavar="N",
                     help="Run on a local Dask cluster of N worker processes (with -o DIR/)."),
        click.option("--scheduler", default=None, metavar="tcp://HOST:PORT",
                     help="Run on the running Dask cluster at this scheduler address (with -o DIR/; see docs/scale.md)."),
        click.option("--resume", is_flag=True, default=False,
                     help="Keep the partitions a stopped run finished in -o DIR/ and do the rest."),
        click.option("--skip-bad", "skip_bad", is_flag=True, default=False,
                     help="Skip input partitions that cannot be read (each is named on stderr) instead of stopping."),
    ]):
        f = opt(f)
    return f


def _partitioned(output: str | None, fmt: str | None, **flags) -> bool:
    """Whether this is a partitioned run: -o names a directory (:func:`geo_idlib.io.dataset_output`).
    The scale flags are refused without one."""
    if pipeline.io.dataset_output(output, fmt):
        return True
    given = [f"--{name.replace('_', '-')}" for name, value in flags.items() if value]
    if given:
        raise click.UsageError(f"{', '.join(given)}: partitioned runs only; give a directory for -o, e.g. -o out/")
    return False


def echo_text(text: str | None) -> None:
    """Print a command's text output (nothing when it went to -o)."""
    if text:
        click.echo(text, nl=not text.endswith("\n"))


# --------------------------------------------------------------------------- the group
@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
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
# (commands: places, geocode, gazetteer add|fetch|list|remove)
# --- geocode, gazetteer add|fetch|list|remove (gazetteer/geocode area)
def _country_callback(ctx, param, value):
    """Validate --country against the gazetteer's countries (click.BadParameter naming the flag)."""
    if value is None:
        return None
    try:
        return pipeline.check_country(value)
    except GeoIdlibError as exc:
        raise click.BadParameter(str(exc).split(": ", 1)[-1], ctx=ctx, param=param) from None


@cli.command("geocode")
@click.argument("names", nargs=-1, required=True)
@click.option("--country", "country", metavar="CC", default=None, callback=_country_callback,
              help="Context country (ISO 3166-1 alpha-2, e.g. SY) for disambiguation.")
@format_option(pipeline.GEOCODE_FORMATS, "json")
@click.option("--online", is_flag=True, default=False,
              help="Ask an online geocoder (Nominatim, cached) for names the offline gazetteer lacks.")
@gazetteer_option
@output_option()
@overwrite_option
@raw_csv_option
def geocode_cmd(names, country, fmt, online, gazetteers, output, overwrite, raw_csv):
    """Geocode place NAMES offline (GeoNames + your gazetteers): one record per name, in order.

    \b
    Examples:
      geo-idlib geocode Saraqeb "Idlib province" إدلب
      geo-idlib geocode Hayyan Anadan --country SY --format csv
    """
    echo_text(pipeline.geocode(list(names), country=country, fmt=fmt, online=online, output=output,
                               overwrite=overwrite, raw_csv=raw_csv, gazetteers=gazetteers))


@cli.group("gazetteer")
def gazetteer_group():
    """Your own gazetteers (GeoNames dumps or CSV). Every run uses the active ones (all, unless
    added with --inactive or deactivated); a run's --gazetteer NAME chooses others."""


@gazetteer_group.command("add")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--name", "name", default=None, help="Name of the gazetteer (default: from the file name).")
@click.option("--inactive", is_flag=True, default=False,
              help="Use it only in runs that name it (--gazetteer NAME), not by default.")
@click.pass_context
def gazetteer_add_cmd(ctx, file, name, inactive):
    """Add FILE: a GeoNames dump (19 tab-separated columns, e.g. SY.txt, or the whole allCountries.txt)
    or a CSV with a header name, lat, lon[, alternatenames, feature_code, country_code]."""
    def progress(rows: int) -> None:  # big files: a line on stderr every 500,000 rows
        if rows % 500_000 == 0 and not (ctx.obj or {}).get("quiet"):
            click.echo(f"geo-idlib: gazetteer add: {rows:,} rows indexed ...", err=True)

    _added(pipeline.gazetteer_add(file, name, progress=progress, active=not inactive))


def _added(info: dict) -> None:
    click.echo(f"added gazetteer {info['name']}: {info['rows']} places from {info['source']}"
               + (f" ({info['skipped']} rows skipped)" if info["skipped"] else "")
               + ("" if info["active"] else f"; inactive: runs use it with --gazetteer {info['name']}"), err=True)


@gazetteer_group.command("fetch")
@click.argument("code", metavar="CODE")
@click.option("--name", "name", default=None, help="Name of the gazetteer (default: geonames_<CODE>).")
@click.option("--base-url", "base_url", default=None, metavar="URL",
              help="Where the exports are (default: $GEO_IDLIB_GEONAMES_URL, else "
                   "https://download.geonames.org/export/dump/).")
@click.option("--timeout", type=float, default=60.0, show_default=True, metavar="SECONDS",
              help="How long to wait for the server to answer or send more.")
@click.option("--inactive", is_flag=True, default=False,
              help="Use it only in runs that name it (--gazetteer NAME), not by default.")
@click.pass_context
def gazetteer_fetch_cmd(ctx, code, name, base_url, timeout, inactive):
    """Download GeoNames' export of CODE (a country code such as SY, or allCountries) and add it
    as a gazetteer: every feature GeoNames has there (villages, hills, rivers...) with its
    alternate names. The only command that goes online for the gazetteer; progress on stderr.

    \b
    Examples:
      geo-idlib gazetteer fetch SY
      geo-idlib gazetteer fetch allCountries --timeout 300
    """
    quiet = (ctx.obj or {}).get("quiet")

    def say(line: str) -> None:
        if not quiet:
            click.echo(f"geo-idlib: gazetteer fetch: {line}", err=True)

    def rows(n: int) -> None:
        if n % 500_000 == 0:
            say(f"{n:,} rows indexed ...")

    _added(pipeline.gazetteer_fetch(code, name, base_url=base_url, timeout=timeout, progress=say, rows_progress=rows,
                                    active=not inactive))


@gazetteer_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="JSON instead of a table.")
def gazetteer_list_cmd(as_json):
    """List your gazetteers: name, rows, active (used by every run by default), source, date added."""
    items = pipeline.gazetteer_list()
    if as_json:
        import json

        click.echo(json.dumps(items, indent=2, sort_keys=True, ensure_ascii=False))
        return
    if not items:
        click.echo("no user gazetteers (add one with: geo-idlib gazetteer add FILE)", err=True)
        return
    click.echo("name\trows\tactive\tsource\tadded")
    for g in items:
        click.echo(f"{g['name']}\t{g['rows']}\t{'yes' if g['active'] else 'no'}\t{g['source']}\t{g['added']}")


@gazetteer_group.command("activate")
@click.argument("names", nargs=-1, required=True, metavar="NAME...")
def gazetteer_activate_cmd(names):
    """Use the gazetteers NAME... in every run (the default for a new gazetteer)."""
    for g in pipeline.gazetteer_activate(list(names), True):
        click.echo(f"gazetteer {g['name']}: active (every run uses it)", err=True)


@gazetteer_group.command("deactivate")
@click.argument("names", nargs=-1, required=True, metavar="NAME...")
def gazetteer_deactivate_cmd(names):
    """Use the gazetteers NAME... only in runs that name them (--gazetteer NAME)."""
    for g in pipeline.gazetteer_activate(list(names), False):
        click.echo(f"gazetteer {g['name']}: inactive (runs use it with --gazetteer {g['name']})", err=True)


@gazetteer_group.command("remove")
@click.argument("name")
def gazetteer_remove_cmd(name):
    """Remove the gazetteer NAME (see `geo-idlib gazetteer list`)."""
    info = pipeline.gazetteer_remove(name)
    click.echo(f"removed gazetteer {info['name']} ({info['rows']} places)", err=True)


# --- places (toponyms area)
@cli.command("places")
@click.argument("reports", nargs=-1, required=True, metavar="REPORT...")
@format_option(pipeline.PLACES_FORMATS, "geojson")
@output_option(help="Output file (format from its suffix), or a directory (out/) for partitioned GeoParquet.",
               dir_okay=True)
@overwrite_option
@raw_csv_option
@date_option(help="The report_date of every place (default: each report's dateline, if it has one).")
@click.option("--country", "country", metavar="CC", default=None, callback=_country_callback,
              help="Context country (ISO 3166-1 alpha-2, e.g. SY) for disambiguation.")
@click.option("--online", is_flag=True, default=False,
              help="Ask an online geocoder (Nominatim, cached) for names the offline gazetteer lacks.")
@gazetteer_option
@scale_options
@click.pass_context
def places_cmd(ctx, reports, fmt, output, overwrite, raw_csv, date, country, online, gazetteers, workers, scheduler,
               resume, skip_bad):
    """Find every place the REPORT files name (- reads stdin) and geocode it offline.

    GeoJSON (default): one Point feature per mention with report, report_date, mention, start,
    end, sentence, name, place_id, country, admin1, feature_code, precision, confidence and status;
    names the gazetteer lacks are kept with status unresolved and a null geometry. The output
    feeds `geo-idlib join` as it is (its report_date is the date of each place).

    \b
    Examples:
      geo-idlib places report.txt > places.geojson
      geo-idlib places report.txt --country SY -o places.csv
      geo-idlib places report.txt -o p.gpkg && geo-idlib join p.gpkg
      cat report.txt | geo-idlib places -
      geo-idlib places archive/ -o places/ --workers 2

    With -o DIR/ (a directory) the output is partitioned GeoParquet and REPORTs may be directories,
    globs or JSON Lines / Parquet files of documents (id, text, optional date); see docs/scale.md.
    """
    if _partitioned(output, fmt, workers=workers, scheduler=scheduler, resume=resume, skip_bad=skip_bad):
        if online:
            raise click.UsageError("--online: not in partitioned runs (online geocoders answer about one request "
                                   "a second); drop --online, or write one file with -o FILE")
        message = pipeline.places_dataset(list(reports), output, country=country, date=date, workers=workers,
                                          scheduler=scheduler, overwrite=overwrite, resume=resume, skip_bad=skip_bad,
                                          progress=ctx.obj["progress"], gazetteers=gazetteers)
        if not ctx.obj["quiet"]:
            click.echo(message, err=True)
        return
    if output:  # streamed into the file block by block: bounded memory for large reports
        pipeline.write_places(list(reports), output, overwrite=overwrite, country=country, fmt=fmt, online=online,
                              progress=ctx.obj["progress"], date=date, raw_csv=raw_csv, gazetteers=gazetteers)
        log.info("wrote %s", output)
        return
    echo_text(pipeline.places(list(reports), country=country, fmt=fmt, online=online, progress=ctx.obj["progress"],
                              date=date, raw_csv=raw_csv, gazetteers=gazetteers))



# ============================================================================ areas / join / change
# (commands: areas build|at|infer, join, change)
areas_option = click.option("--areas", "areas", type=click.Path(dir_okay=False), default=None,
                            metavar="TIMELINE",
                            help="Control timeline (any GDAL format). Default: the embedded NW Syria timeline.")


@cli.group("areas")
def areas():
    """Dated control areas: build a timeline, take a snapshot, infer one from reports."""


@areas.command("build")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--actor", default=None, metavar="NAME",
              help="Who controls the areas in these files (e.g. russia). Default: the files' `actor` column.")
@output_option(required=True, help="Timeline file to write (.gpkg, .geojson, .fgb, .parquet, .csv).")
@overwrite_option
@format_option(pipeline.LAYER_FORMATS)
@raw_csv_option
@click.pass_context
def areas_build(ctx, files, actor, output, overwrite, fmt, raw_csv):
    """Make a compact timeline from per-date FILES whose names carry the date (YYYYMMDD or
    YYYY-MM-DD). Each file's areas hold until the next file's date; unchanged days share one row."""
    message = pipeline.areas_build(files, output, actor=actor, overwrite=overwrite, progress=ctx.obj["progress"],
                                   fmt=fmt, raw_csv=raw_csv)
    if not ctx.obj["quiet"]:
        click.echo(message, err=True)


@areas.command("at")
@click.argument("timeline", type=click.Path(dir_okay=False))
@date_option(help="The day to show (YYYY-MM-DD).")
@output_option()
@overwrite_option
@format_option(pipeline.LAYER_FORMATS, "geojson")
@raw_csv_option
def areas_at(timeline, date, output, overwrite, fmt, raw_csv):
    """The control areas of TIMELINE valid on --date (GeoJSON on stdout, or -o FILE)."""
    if not date:
        raise click.BadParameter("give the day to show, e.g. --date 2020-02-20", param_hint="--date")
    echo_text(pipeline.areas_at(timeline, date, output, overwrite, fmt=fmt, raw_csv=raw_csv))


def _positive_km(ctx, param, value):
    if value is not None and not value > 0:
        raise click.BadParameter(f"{value} is not a positive distance; give km, e.g. 10", param_hint="--max-distance")
    return value


@areas.command("infer")
@click.argument("observations", type=click.Path(dir_okay=False))
@click.option("--within", required=True, metavar="BOUNDARY",
              help="Polygon file to fill, or governorate names of the embedded layer, e.g. Idlib,Aleppo.")
@click.option("--max-distance", "max_distance", type=float, default=None, metavar="KM", callback=_positive_km,
              help="Ground farther than KM from every report becomes `unknown`. Default: fill the boundary.")
@date_option("--until", help="Last day covered (default: open-ended after the last report).")
@country_option
@gazetteer_option
@output_option(required=True, help="Timeline file to write (.gpkg, .geojson, .fgb, .parquet, .csv).")
@overwrite_option
@format_option(pipeline.LAYER_FORMATS)
@raw_csv_option
@click.pass_context
def areas_infer(ctx, observations, within, max_distance, until, country, gazetteers, output, overwrite, fmt, raw_csv):
    """Infer a control timeline from dated point reports in OBSERVATIONS (CSV, GeoJSON, GeoPackage
    with date, actor, and lat + lon or a place name; optional id, source, note). At each report
    date every place keeps its latest report; Voronoi cells of the reports are clipped to --within
    and dissolved per actor. Each area lists its reports (obs_ids) and its km² inside the band where
    the front may run (uncertain_km2); a GeoPackage also gets the band itself (layer front_band)."""
    message = pipeline.infer_areas(observations, within, output, max_distance_km=max_distance, until=until,
                                   overwrite=overwrite, country=country, progress=ctx.obj["progress"],
                                   fmt=fmt, raw_csv=raw_csv, gazetteers=gazetteers)
    if not ctx.obj["quiet"]:
        click.echo(message, err=True)


@cli.command("join")
@click.argument("events", nargs=-1, required=True, metavar="EVENTS...")
@areas_option
@click.option("--date-column", default=None,
              help="Column of event dates (YYYY-MM-DD). Default: date, else report_date (from `places`).")
@date_option(help="Give every event this date (YYYY-MM-DD) instead of a column's.")
@click.option("--lat-column", default=None, help="Latitude column (CSV default: lat).")
@click.option("--lon-column", default=None, help="Longitude column (CSV default: lon).")
@click.option("--predicate", type=click.Choice(["intersects", "within"]), default="intersects", show_default=True,
              help="intersects: a point on a border counts (ties: latest valid_from, then actor name); "
                   "within: interiors only.")
@output_option(help="Output file (format from its suffix), or a directory (out/) for partitioned GeoParquet.",
               dir_okay=True)
@overwrite_option
@format_option(pipeline.LAYER_FORMATS, "csv for CSV events, geojson for others")
@raw_csv_option
@scale_options
@click.pass_context
def join_cmd(ctx, events, areas, date_column, date, lat_column, lon_column, predicate, output, overwrite, fmt,
             raw_csv, workers, scheduler, resume, skip_bad):
    """Add to each row of EVENTS (CSV, GeoJSON, GeoPackage, GeoParquet) the actor that controlled its
    place on its date, and the valid_from of that area.

    With -o DIR/ (a directory) the output is partitioned GeoParquet and EVENTS may be several files,
    directories of GeoParquet files or globs, of any size; see docs/scale.md.

    \b
    Examples:
      geo-idlib places report.txt -o p.gpkg && geo-idlib join p.gpkg
      geo-idlib join events.csv --areas ua.gpkg --date-column day -o joined.csv
      geo-idlib join events/ --areas ua.gpkg -o joined/ --workers 2
    """
    if _partitioned(output, fmt, workers=workers, scheduler=scheduler, resume=resume, skip_bad=skip_bad):
        message = pipeline.join_dataset(list(events), output, areas=areas, date_column=date_column, date=date,
                                        lat_column=lat_column, lon_column=lon_column, predicate=predicate,
                                        workers=workers, scheduler=scheduler, overwrite=overwrite, resume=resume,
                                        skip_bad=skip_bad, progress=ctx.obj["progress"])
        if not ctx.obj["quiet"]:
            click.echo(message, err=True)
        return
    if len(events) > 1:
        raise click.UsageError("several EVENTS: partitioned runs only; give a directory for -o, e.g. -o out/")
    echo_text(pipeline.join_events(events[0], areas, date_column=date_column, lat_column=lat_column,
                                   lon_column=lon_column, output=output, overwrite=overwrite, predicate=predicate,
                                   date=date, fmt=fmt, raw_csv=raw_csv))


@cli.command("change")
@areas_option
@date_option("--from", help="First date (YYYY-MM-DD).")
@date_option("--to", help="Second date (YYYY-MM-DD).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (same as --format json).")
@click.option("--format", "fmt", type=click.Choice(("table", "csv", "json")), default="table", show_default=True,
              help="The summary on stdout (with --every and -o: the series file, else by its suffix).")
@click.option("--every", type=click.Choice(["week", "month"]), default=None,
              help="A series: one row per actor and period between --from and --to.")
@output_option(help="Change polygons (actor_from, actor_to, area_km2; format from the suffix); with --every, "
                   "the series (.csv or .json).")
@overwrite_option
@raw_csv_option
@click.pass_context
def change_cmd(ctx, areas, as_json, fmt, every, output, overwrite, raw_csv, **dates):
    """Territory gained and lost per actor between --from and --to, in geodesic km² (WGS84).

    Change polygons under 0.01 km² (slivers of redrawing) are dropped and counted. Example:
    geo-idlib change --from 2019-12-19 --to 2020-02-20 --json
    """
    for name in ("from", "to"):
        if not dates[name]:
            raise click.BadParameter("give a date, e.g. 2020-02-20", param_hint=f"--{name}")
    echo_text(pipeline.change_report(dates["from"], dates["to"], areas=areas, output=output, overwrite=overwrite,
                                     fmt="json" if as_json else fmt, every=every, progress=ctx.obj["progress"],
                                     raw_csv=raw_csv))


# ============================================================================ map
@cli.command("map")
@click.argument("reports", nargs=-1, metavar="[REPORT]...")
@areas_option
@date_option(help="Date shown (default: --to, else the report's dateline, else the timeline's last date).")
@date_option("--from", help="Start of the change period (gained/lost areas, before/after swipe).")
@date_option("--to", help="End of the change period.")
@click.option("--offline/--online", default=True, show_default=True,
              help="Offline: Leaflet inlined, vector basemap, no network. Online: OSM/CARTO tiles.")
@click.option("--title", default=None, help="Map title.")
@click.option("--size", default="1200x800", show_default=True, metavar="WxH", help="PNG size in pixels.")
@country_option
@gazetteer_option
@output_option(required=True, help="Output map: .html (self-contained) or .png (headless Chromium).")
@overwrite_option
@format_option(pipeline.MAP_FORMATS, "html")
@click.pass_context
def map_cmd(ctx, reports, areas, date, offline, title, size, country, gazetteers, output, overwrite, fmt, **dates):
    """Draw REPORTs' places over who controlled the ground, as one self-contained HTML (or PNG).

    With no REPORT the map shows the areas alone. Example:
    geo-idlib map report.txt --date 2020-02-20 -o map.html
    """
    try:
        width, height = (int(v) for v in size.lower().split("x"))
    except ValueError:
        raise click.BadParameter(f"{size!r} is not WIDTHxHEIGHT, e.g. 1200x800", param_hint="--size") from None
    pipeline.map_command(list(reports), output, overwrite=overwrite, width=width, height=height, fmt=fmt,
                         areas=areas, date=date, d1=dates["from"], d2=dates["to"], offline=offline,
                         title=title, country=country, progress=ctx.obj["progress"], gazetteers=gazetteers)
    if not ctx.obj["quiet"]:
        click.echo(f"wrote {output}", err=True)

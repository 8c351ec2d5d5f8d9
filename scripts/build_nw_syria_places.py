"""Build shapefiles/nw_syria_places.csv: a small gazetteer of the places the NW Syria sample names.

GeoNames cities500 (the default gazetteer) holds only ~300 Syrian places, so villages that reports of
the 2019-2020 offensive name every day (Kafr Naha, Anadan, Nayrab, Kafr Batikh...) are missing from it.
The sample's observations already locate 120 of them (facts: names and coordinates, each with its
source). This script re-expresses those facts as a gazetteer in geo_idlib's CSV gazetteer format
(name, lat, lon, alternatenames, feature_code, country_code, admin1, source), which every run
includes as the built-in `nw_syria` gazetteer.

Reads: shapefiles/nw_syria_observations.csv (ours) and, for spellings, the `place_alt` column of
../shared/data/nw_syria_2019_2020/*.csv (facts). Usage:

    .venv/bin/python -m scripts.build_nw_syria_places [--check]
"""

from __future__ import annotations

import argparse
import re
import sys

import pandas as pd

from geo_idlib import io
from scripts.common import ROOT, SHARED

FACTS = SHARED / "data" / "nw_syria_2019_2020"
OBS = ROOT / "shapefiles" / "nw_syria_observations.csv"
OUT = ROOT / "shapefiles" / "nw_syria_places.csv"
COLUMNS = ["name", "lat", "lon", "alternatenames", "feature_code", "country_code", "admin1", "source"]
#: Words that make a fact place a facility rather than a settlement (GeoNames feature codes).
FEATURES = [(r"\bair ?base\b|\bairport\b", "AIRB"), (r"\bbase\b|\bbarracks\b|\bacademy\b", "MILB"),
            (r"\bhill\b|\btal+ [a-z]+ hill\b", "HLL")]


def feature_code(name: str) -> str:
    low = name.lower()
    for pattern, code in FEATURES:
        if re.search(pattern, low):
            return code
    return "PPL"


def facts_spellings() -> dict[str, set[str]]:
    """``facts_row`` id (``baseline:N`` / ``events:N``) → spellings in the facts (place + place_alt)."""
    out: dict[str, set[str]] = {}
    for kind, name in (("baseline", "baseline_control_2019-12-18.csv"),
                       ("events", "nw_syria_control_events_2019_2020.csv")):
        table = io.read_table(FACTS / name, "facts table")
        for i, row in enumerate(table.itertuples(index=False), start=2):  # row 1 is the header
            names = {row.place.strip()} | {a.strip() for a in str(row.place_alt).split("|") if a.strip()}
            out[f"{kind}:{i}"] = names
    return out


def build() -> str:
    obs = io.read_table(OBS, "observations")
    facts = obs[obs["id"].str.match(r"^(ev|bl|bx)\d")].copy()
    # a facility or an area description is not a settlement name ("Anadan Plain (incl. Anadan)")
    facts = facts[~facts["place"].str.contains(r"[()&]|highway|\bM\d\b", regex=True)]
    spell = facts_spellings()
    rows = []
    # one entry per located point: spellings merged into the facts as one place share it
    for (lat, lon), group in facts.groupby(["lat", "lon"], sort=True):
        counts = group["place"].value_counts()
        place = sorted(counts.index, key=lambda n: (-counts[n], n))[0]
        alts: set[str] = set(group["place"])
        for ref in group["facts_row"]:
            alts |= spell.get(ref, set())
        for how in group["located_by"]:
            m = re.search(r"\((?:wikipedia2017|geonames|ocha)[^:]*: ([^)]+)\)", how)
            if m:
                alts.add(m.group(1).strip())
        alts.discard(place)
        src = sorted(set(group["coord_source"]))
        rows.append({"name": place, "lat": lat, "lon": lon, "alternatenames": "|".join(sorted(alts)),
                     "feature_code": feature_code(place), "country_code": "SY",
                     "admin1": sorted(set(group["governorate"]))[0], "source": ";".join(src)})
    table = pd.DataFrame(rows, columns=COLUMNS).sort_values(["name", "lat", "lon"], kind="stable")
    return table.to_csv(index=False, lineterminator="\n")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="compare with the committed file, write nothing")
    args = ap.parse_args(argv)
    text = build()
    if args.check:
        same = OUT.exists() and OUT.read_text(encoding="utf-8") == text
        print("nw_syria_places.csv: " + ("up to date" if same else "DIFFERS from a rebuild"))
        return 0 if same else 1
    io.write_text(OUT, text, overwrite=True)
    print(f"wrote {OUT.relative_to(ROOT)}: {text.count(chr(10)) - 1} places")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Add the demonyms of every country to geo_idlib/data/not_places.csv (kind ``demonym``).

Source: the ``demonym`` field of each country in the PyPI package ``countryinfo`` 1.0.1 (MIT), split
on "," and "/" ("Bosnian, Herzegovinian"); a value that is the country's own name ("Djibouti",
"Gibraltar") is not a demonym and is left out, and so is one already listed. Some demonyms are also
among countryinfo's spellings of the country ("Togolese" for Togo): the toponym finder's never-list
wins, so "Togolese troops" is not a mention of Togo.
Plurals are not generated: the toponym finder reads "Malaysians" through its own plural rule.

Run: ``.venv/bin/python -m scripts.add_demonyms`` — appends the missing rows, sorted; idempotent.
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import countryinfo

from scripts.common import ROOT

CSV = ROOT / "geo_idlib" / "data" / "not_places.csv"


def demonyms() -> list[str]:
    out = set()
    for f in sorted((Path(countryinfo.__file__).resolve().parent / "data").glob("*.json")):
        d = json.loads(f.read_text(encoding="utf-8"))
        names = {(d.get("name") or "").casefold()}
        for part in re.split(r"[,/]", d.get("demonym") or ""):
            part = part.strip()
            if part and part.casefold() not in names:
                out.add(part)
    return sorted(out)


def main() -> int:
    text = CSV.read_text(encoding="utf-8")
    have = {r["name"].casefold() for r in csv.DictReader(text.splitlines())}
    new = [n for n in demonyms() if n.casefold() not in have]
    if new:
        CSV.write_text(text.rstrip("\n") + "\n" + "".join(f"{n},demonym\n" for n in new), encoding="utf-8")
    print(f"{CSV}: {len(new)} demonyms added")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

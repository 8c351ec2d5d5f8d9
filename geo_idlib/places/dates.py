"""The report's own date, from its headline or dateline."""

from __future__ import annotations

import re

#: Month names and abbreviations of English datelines → month number.
_MONTHS = {m: i for i, m in enumerate(
    ["january", "february", "march", "april", "may", "june", "july", "august", "september",
     "october", "november", "december"], start=1)}
_MONTHS.update({m[:3]: i for m, i in list(_MONTHS.items())})
_MONTHS["sept"] = 9
_DATE_PATTERNS = [
    r"(?P<y>(?:19|20)\d\d)-(?P<m>\d\d)-(?P<d>\d\d)",
    r"(?P<d>\d{1,2})\s+(?P<mon>[A-Za-z]{3,9})\.?,?\s+(?P<y>(?:19|20)\d\d)",
    r"(?P<mon>[A-Za-z]{3,9})\.?\s+(?P<d>\d{1,2}),?\s+(?P<y>(?:19|20)\d\d)",
]


_COMPILED = [re.compile(p) for p in _DATE_PATTERNS]
_YEAR = re.compile(r"(?:19|20)\d\d")  # every pattern has a year: most heads are passed over at once


def find_report_date(text: str, head_chars: int = 600):
    r"""The report's own date, when its first lines (headline, dateline) carry one.

    Only the first ``head_chars`` characters are searched, so dates of events told later in the
    story are not mistaken for the report's date. Returns a ``datetime.date`` or None.

    Examples
    --------
    >>> find_report_date("Offensive reaches Sarmin\n20 February 2020\n\nIDLIB, Syria ...")
    datetime.date(2020, 2, 20)
    >>> find_report_date("BEIRUT, Feb. 9, 2020 (AP) - Troops took ...")
    datetime.date(2020, 2, 9)
    >>> find_report_date("No date here.") is None
    True
    """
    import datetime as _dt

    head = text[:head_chars]
    found = []
    if not _YEAR.search(head):
        return None
    for pat in _COMPILED:
        for m in pat.finditer(head):
            g = m.groupdict()
            month = int(g["m"]) if g.get("m") else _MONTHS.get(g["mon"].lower())
            if not month:
                continue
            try:
                found.append((m.start(), _dt.date(int(g["y"]), month, int(g["d"]))))
            except ValueError:
                continue
    return min(found)[1] if found else None

"""The report's own date, from its headline or dateline (English or Arabic, Arabic-Indic digits too)."""

from __future__ import annotations

import re

#: Month names and abbreviations of English datelines → month number.
_MONTHS = {m: i for i, m in enumerate(
    ["january", "february", "march", "april", "may", "june", "july", "august", "september",
     "october", "november", "december"], start=1)}
_MONTHS.update({m[:3]: i for m, i in list(_MONTHS.items())})
_MONTHS["sept"] = 9
#: Arabic month names (alef forms folded to ا): the Gregorian names used in Syria and the Levant
#: (كانون الثاني, شباط, آذار...) and those of Egypt and the Gulf (يناير, فبراير, مارس...).
_ARABIC_MONTHS = {
    "كانون الثاني": 1, "شباط": 2, "اذار": 3, "نيسان": 4, "ايار": 5, "حزيران": 6, "تموز": 7, "اب": 8,
    "ايلول": 9, "تشرين الاول": 10, "تشرين الثاني": 11, "كانون الاول": 12,
    "يناير": 1, "فبراير": 2, "مارس": 3, "ابريل": 4, "مايو": 5, "يونيو": 6, "يونيه": 6, "يوليو": 7,
    "يوليه": 7, "اغسطس": 8, "سبتمبر": 9, "اكتوبر": 10, "نوفمبر": 11, "ديسمبر": 12}
_MONTHS.update(_ARABIC_MONTHS)
_AR_MON = "|".join(sorted((m.replace(" ", r"\s+") for m in _ARABIC_MONTHS), key=len, reverse=True))
_DATE_PATTERNS = [
    r"(?P<y>(?:19|20)\d\d)-(?P<m>\d\d)-(?P<d>\d\d)",
    r"(?P<d>\d{1,2})\s+(?P<mon>[A-Za-z]{3,9})\.?,?\s+(?P<y>(?:19|20)\d\d)",
    r"(?P<mon>[A-Za-z]{3,9})\.?\s+(?P<d>\d{1,2}),?\s+(?P<y>(?:19|20)\d\d)",
    # Arabic: "28 يناير 2020", "28 كانون الثاني/يناير 2020", "28 شباط (فبراير) 2020"
    rf"(?<!\d)(?P<d>\d{{1,2}})\s*(?P<mon>{_AR_MON})(?:\s*[/(]\s*(?:{_AR_MON})\s*\)?)?\s*[،,]?\s*(?P<y>(?:19|20)\d\d)",
]
#: One character for one: Arabic-Indic digits → ASCII, alef forms → ا (positions stay the same).
_FOLD = str.maketrans({**{chr(0x0660 + d): str(d) for d in range(10)}, **{chr(0x06F0 + d): str(d) for d in range(10)},
                       "أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا"})


_FOLDED = re.compile("[" + "".join(map(chr, _FOLD)) + "]")  # a character _FOLD changes
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
    >>> find_report_date("إدلب - الثلاثاء 28 يناير 2020"), find_report_date("حماة-سانا ٣ آذار ٢٠٢٠")
    (datetime.date(2020, 1, 28), datetime.date(2020, 3, 3))
    >>> find_report_date("دمشق، 9 كانون الثاني/يناير 2019 - ...")
    datetime.date(2019, 1, 9)
    """
    import datetime as _dt

    head = text[:head_chars]
    if not head.isascii() and _FOLDED.search(head):
        head = head.translate(_FOLD)
    found = []
    if not _YEAR.search(head):
        return None
    for pat in _COMPILED:
        for m in pat.finditer(head):
            g = m.groupdict()
            month = int(g["m"]) if g.get("m") else _MONTHS.get(" ".join(g["mon"].lower().split()))
            if not month:
                continue
            try:
                found.append((m.start(), _dt.date(int(g["y"]), month, int(g["d"]))))
            except ValueError:
                continue
    return min(found)[1] if found else None

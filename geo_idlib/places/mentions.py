"""Text → place mentions: every place name a report uses, with its exact character span.

How mentions are found (one pass per text block, no loop of regexes over names):

1. The text is cut into sentences and words once (``Ma'arrat``, ``al-Nayrab``, ``U.S.`` are
   words; ``Syria’s`` is ``Syria`` plus a possessive that ends any name).
2. Every run of up to ``index.max_words`` words that could be a proper name (first and last word
   capitalised, words between capitalised or connectors such as ``al``, ``of``, ``de``) is
   normalised with :func:`geo_idlib.places.normalize.normalize` and all keys are looked up in ONE
   :meth:`GazetteerIndex.lookup_many` call. The longest match wins, left to right.
3. Context rules drop what is not a place (lookup tables in ``geo_idlib/data/``):
   demonyms, weekdays and months never are; person names, organisations and weapons
   (``not_places.csv``) are places only right after a locative cue ("in Akar", not "Akar said");
   a match glued to a capitalised non-place word is part of a longer name ("Vladimir Putin",
   "Hulusi Akar", "Washington Post"); a word after a title ("President X") is a person; short
   all-capital acronyms count only when they name a country ("US", not "UN"); where capitals say
   nothing (sentence start, headlines) a word must literally be a place's name, and common English
   words need more evidence (wordfreq); photo-credit lines ("EPA-EFE/NAME NAME") are skipped.
4. Names the gazetteer lacks are still reported (with an empty candidate list later) when a report
   pattern frames them: "the village(s)/town/city of X", "X countryside/province", "X County",
   "captured/entered/shelled/hit X", "took control of X", "near X", "in X", "X and Y villages",
   and Arabic compound names on a generic first word ("Tal X", "Kafr X", "Maarat al-X").
5. ``kind_hint`` records what the words say the place is: "Idlib province", "Aleppo countryside"
   → ``admin1``; "the city of Idlib", "the town of Sarmin", "Idlib city" → ``settlement``.

The result is a plain DataFrame, one row per mention (repeats included), in text order, with
columns :data:`COLUMNS`. :mod:`geo_idlib.places.resolve` turns it into places.
"""

from __future__ import annotations

import bisect
import re
from array import array
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

import pandas as pd

from .. import io
from .normalize import APOSTROPHES, literal_key, normalize

#: A word this frequent in English (wordfreq Zipf scale) is not taken as a place where its
#: capital letter says nothing (sentence start, ALL-CAPS or Title Case lines) unless it names a
#: country, region, first-level division, capital or a city of a million ("In", "More", "Police";
#: but "Turkey", "Jordan", "London"). Tuned on the dev sets (scripts/eval_places.py).
COMMON_ZIPF = 4.0
MAJOR_POPULATION = 1_000_000
#: Even a country or capital is not taken where capitals say nothing if its name is this frequent
#: an English word ("Man" is; "Turkey", "China", "Jordan", "Chad" are not).
VERY_COMMON_ZIPF = 5.5

#: Columns of the mentions table, in order.
COLUMNS = ["report", "mention", "start", "end", "sentence", "key", "kind_hint"]

# A word: a dotted acronym (U.S., U.K.) or letters/digits joined by apostrophes (Ma'arrat, Nu‘man).
_APOS = APOSTROPHES
_WORD = re.compile(rf"(?:[^\W\d_]\.){{2,}}|[^\W_]+(?:[{_APOS}][^\W_]+)*")
_POSSESSIVE = re.compile(rf"[{_APOS}][sS]$")
# What may stand between two words of one name: one to three spaces, or a hyphen.
_JOIN = re.compile(rf"(?:[ \u00a0]{{1,3}}|[-‐‑])[{_APOS}]?")  # also "Al-'Eis", "Kafr 'Awaid"
# Sentence ends: terminal punctuation (+ closing quotes) and space, or a line break.
_SENT_END = re.compile(r"[.!?…]+[\"'”’)\]]*[ \t\u00a0]+|[ \t\u00a0]*\n\s*")
_ABBREV = {"mr", "mrs", "ms", "dr", "st", "mt", "ft", "gen", "col", "lt", "sgt", "capt", "gov", "sen",
           "rep", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",
           "no", "vs", "etc", "inc", "corp", "co", "jr", "sr", "prof", "rev", "gens", "maj", "adm"}
# A photo credit line such as "EPA-EFE/YAHYA NEMAH": no lower-case letter, a slash.
_CREDIT = re.compile(r"^[^a-z\n]*[A-Z]{2,}[^a-z\n]*/[^a-z\n]*$")

# ----------------------------------------------------------------------------- report patterns
_ART = r"(?:(?:al|el|ad|an|ar|as|ash|at|az|ez|Al|El|Ad|An|Ar|As|Ash|At|Az)-|(?:al|el|Al|El)\s)"
_UPPER = "A-ZÀ-ÖØ-ÞĀ-ſḀ-ỿ"  # Latin capitals incl. Latin-1, Extended-A and Additional (Şabur, Ḥamāh); the last two also hold lower case
_CAPW = rf"[{_APOS}]?(?:[{_UPPER}][\w{_APOS}]*|[\u0621-\u064A\u0671-\u06D3]+)"  # or an Arabic-script word
_NAME = rf"(?<![\w{_APOS}-])(?=[{_UPPER}\u0621-\u064A\u0671-\u06D3]|[aeAE][a-z]{{1,2}}[-\s])(?:{_ART})?{_CAPW}(?:(?:[ \u00a0]|-){_ART}?{_CAPW})*"
_LIST = rf"{_NAME}(?:(?:\s*,\s*(?:and\s+)?|\s+and\s+){_NAME})*"
# Each pattern: (regex with a group "n" holding one name or a list of names, kind_hint, explicit).
# Separate regexes so that overlapping frames ("the Shiite villages of Foua and Kfraya") all match.
_PATTERNS = [
    (re.compile(rf"\b(?i:villages?|towns?|city|hamlets?)\s+of\s+(?:the\s+)?(?P<n>{_LIST})"), "settlement", True),
    (re.compile(rf"(?P<n>{_LIST})\s+(?i:villages|towns|village|town)\b"), "settlement", False),
    (re.compile(rf"(?P<n>{_NAME})\s+(?i:countryside|province|governorate)\b"), "admin1", False),
    (re.compile(rf"(?P<n>{_NAME}\s+(?:County|Parish|Township|Borough|District|Subdistrict))\b"), None, True),
    (re.compile(rf"\b(?i:captured|seized|recaptured|retook|took\s+control\s+of|took\s+over|entered|stormed"
                rf"|shelled|struck|bombed|bombarded|hit|targeted|attacked|raided|besieged|liberated|reached"
                rf"|near|outskirts\s+of|advanced\s+on|advanced\s+towards?)\s+(?P<n>{_LIST})"), None, False),
    (re.compile(rf"\b(?i:in|into|around|outside|towards?)\s+(?P<n>{_NAME}(?:\s+and\s+{_NAME})?)(?![{_APOS}\w])"),
     None, False),
]
_SPLIT_LIST = re.compile(r"\s*,\s*(?:and\s+)?|\s+and\s+")


@dataclass(frozen=True)
class _Tables:
    never: frozenset  # demonyms, weekdays, months, common words: never a place
    contextual: frozenset  # persons, organisations, weapons: a place only after a locative cue
    person: frozenset
    title: frozenset
    connector: frozenset
    locative: frozenset
    admin1_after: frozenset
    settlement_before: frozenset
    settlement_after: frozenset
    person_after: frozenset
    feature: frozenset


@lru_cache(maxsize=1)
def _tables() -> _Tables:
    np_ = io.read_table(io.package_data("not_places.csv"), "not_places.csv")
    cues = io.read_table(io.package_data("toponym_cues.csv"), "toponym_cues.csv")

    def names(kinds, table=np_, col="kind", field="name"):
        return frozenset(normalize(n) for n in table.loc[table[col].isin(kinds), field])

    def words(role):
        return frozenset(w.lower() for w in cues.loc[cues["role"] == role, "word"])

    return _Tables(
        never=names({"demonym", "weekday", "month", "common"}),
        contextual=names({"person", "org", "weapon"}),
        person=names({"person"}),
        title=names({"title"}),
        connector=words("connector"),
        locative=words("locative"),
        admin1_after=words("admin1_after"),
        settlement_before=words("settlement_before"),
        settlement_after=words("settlement_after"),
        person_after=words("person_after"),
        feature=words("feature") | words("admin1_after") | words("settlement_after"),
    )


@lru_cache(maxsize=1 << 16)
def _key(surface: str) -> str:
    return normalize(surface)


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Character spans ``(start, end)`` of the sentences (and lines) of ``text``.

    Sentences end at ``.``, ``!``, ``?`` followed by space and not after a known abbreviation
    (``Mr.``, ``Gen.``, ``Dec.``) or an initial (``U.S.``), and at every line break.

    Examples
    --------
    >>> t = "Gen. Smith went to Idlib. Then Aleppo!\\nNew line"
    >>> [t[s:e] for s, e in split_sentences(t)]
    ['Gen. Smith went to Idlib.', 'Then Aleppo!', 'New line']
    """
    spans, start = [], 0
    for m in _SENT_END.finditer(text):
        if "\n" not in m.group():
            before = text[start:m.start()].rsplit(None, 1)
            last = before[-1].lower().rstrip(".") if before else ""
            nxt = text[m.end():m.end() + 1]
            if last in _ABBREV or (len(last) == 1 and last.isalpha()) or nxt.islower():
                continue
        end = m.start() + len(m.group().rstrip())
        if end > start and text[start:end].strip():
            spans.append((start, end))
        start = m.end()
    if text[start:].strip():
        spans.append((start, len(text.rstrip())))
    return spans


def _is_cap(w: str) -> bool:
    """Capitalised, or a script without case (Arabic); never a number."""
    if not w or w[0].isdigit():
        return False
    for c in w:
        if c.isupper():
            return True
        if c.islower():
            return False
    return True


def _cased(sentence: str) -> bool:
    """Whether capitalisation carries information (not an ALL-CAPS, all-lower or Title Case line)."""
    low = sum(map(str.islower, sentence))
    up = sum(map(str.isupper, sentence))
    if not (low > 0 and up > 0 and up < 0.6 * (low + up)):
        return False
    long_words = [w for w in sentence.split()[1:] if len(w) > 3 and w[0].isalpha()]  # the first is always capitalised
    caps = sum(w[0].isupper() for w in long_words)
    return not (len(long_words) >= 4 and caps >= 0.75 * len(long_words))


@lru_cache(maxsize=1 << 16)
def _zipf(word: str) -> float:
    from wordfreq import zipf_frequency

    return zipf_frequency(word.lower(), "en")


def _common(word: str) -> bool:
    return _zipf(word) >= COMMON_ZIPF


_MAJOR_CODES = ("PCL", "ADM1", "CONT", "RGN", "PPLC")


def _literal(cands, surface: str) -> list:
    """Candidates whose own name or an alternate name is literally ``surface`` (not only its key):
    "Read" is a key of Riyadh (alternate name "Riad") but not literally one of its names."""
    f = literal_key(surface)
    return [c for c in cands if literal_key(c.name) == f
            or any(literal_key(a) == f for a in getattr(c, "alternatenames", ()) or ())]


def _major(cands, key: str) -> bool:
    """A country, region, capital, first-level division of 100,000 people, or a city of a million
    named exactly so."""
    return any((str(getattr(c, "feature_code", "")).startswith(_MAJOR_CODES)
                and (c.feature_code != "ADM1" or (c.population or 0) >= 100_000))
               or ((getattr(c, "population", 0) or 0) >= MAJOR_POPULATION
                   and (normalize(c.name) + " ").startswith(key + " "))
               for c in cands)


class _Lower:
    """``W.low[k]``: word k in lower case, computed on demand (no second list of strings)."""

    def __init__(self, words: list[str]):
        self.words = words

    def __getitem__(self, k: int) -> str:
        return self.words[k].lower()


class _Words:
    """The words of a text with their spans, sentences and join/capitalisation flags.

    Offsets and flags are kept in compact arrays (about 70 bytes per word with the word itself),
    so a 256 KB block costs a few MB whatever the size of the report.
    """

    def __init__(self, text: str):
        self.text = text
        self.sents = split_sentences(text)
        sent_starts = [s for s, _ in self.sents]
        self.sent_cased = [_cased(text[s:e]) for s, e in self.sents]
        self.sent_skip = [bool(_CREDIT.match(text[s:e])) for s, e in self.sents]
        ws, we, sid, poss = array("l"), array("l"), array("l"), bytearray()
        wt: list[str] = []
        k = 0
        for m in _WORD.finditer(text):
            s, e, w = m.start(), m.end(), m.group()
            p = len(w) > 2 and bool(_POSSESSIVE.search(w))
            if p:
                e -= 2
                w = w[:-2]
            while k + 1 < len(sent_starts) and sent_starts[k + 1] <= s:
                k += 1
            ws.append(s)
            we.append(e)
            wt.append(w)
            poss.append(p)
            sid.append(k)
        self.ws, self.we, self.wt, self.poss, self.sid = ws, we, wt, poss, sid
        self.n = n = len(wt)
        self.low = _Lower(wt)
        cased = self.sent_cased
        self.cap = bytearray(_is_cap(w) or not cased[sid[i]] for i, w in enumerate(wt))
        # joined[i]: word i and word i+1 may belong to one name
        self.joined = bytearray(
            i + 1 < n and not poss[i] and sid[i] == sid[i + 1]
            and (bool(_JOIN.fullmatch(text, we[i], ws[i + 1]))
                 or (wt[i] in ("St", "Mt", "Ft") and text[we[i]:ws[i + 1]] == ". "))  # St. Louis
            for i in range(n))
        self.first_in_sentence = bytearray(i == 0 or sid[i - 1] != sid[i] for i in range(n))


def _candidate_spans(W: _Words, t: _Tables, max_words: int) -> dict[tuple[int, int], str]:
    """All word runs (i, j) that could be a proper name, with their normalised keys."""
    out = {}
    for i in range(W.n):
        if W.sent_skip[W.sid[i]]:
            continue
        first = W.low[i]
        article = (i + 1 < W.n and W.cap[i + 1] and W.joined[i]
                   and (first in _ARTICLES and W.text[W.we[i]] in "-‐‑" or first in ("al", "el")))
        if not (W.cap[i] and (first not in t.connector or not W.sent_cased[W.sid[i]]) or article):
            continue
        j = i
        while True:
            if W.cap[j] and W.low[j] not in t.connector:
                out[(i, j)] = _key(W.text[W.ws[i]:W.we[j]].replace(".", ""))
            if j - i + 1 >= max_words or not W.joined[j]:
                break
            j += 1
            if not (W.cap[j] or W.low[j] in t.connector):
                break
    return out


#: Cues after which even a person's or an organisation's name is a place ("a school in Akar").
_STRICT_LOCATIVE = {"in", "near", "outside", "around", "into", "towards", "toward"}
_ARTICLES = {"al", "el", "ad", "an", "ar", "as", "ash", "at", "az", "ez", "es", "ed", "er", "et", "en"}


def _is_caps(w: str) -> bool:
    letters = [c for c in w if c.isalpha()]
    return len(letters) > 1 and all(c.isupper() for c in letters)


_CONTRACTION = re.compile(rf"[{_APOS}](?:m|re|ve|ll|d|t|s)$", re.I)
_CAMEL = re.compile(r"^(?!Mc|Mac|O'|D'|De|Di|La|Le)(?:[A-Z][a-z]+[A-Z]|[A-Z]{2,}[a-z])")


def _names_state(cands) -> bool:
    """A country or first-level division ("Pakistan Army" still names Pakistan)."""
    return any(str(getattr(c, "feature_code", "")).startswith(("PCL", "ADM1")) for c in cands)


def _names_country(cands) -> bool:
    return any(str(getattr(c, "feature_code", "")).startswith("PCL") for c in cands)


class _Context:
    """What the whole block says about its words, for the context rules of :func:`_accept`."""

    def __init__(self, W: _Words, t: _Tables, hits: dict, found: dict):
        self.W, self.t = W, t
        # the candidates of the longest gazetteer hit starting at each word
        self.hit_at: dict[int, list] = {}
        for (i, _j), k in sorted(hits.items()):
            self.hit_at[i] = found[k]
        # words seen in lower case somewhere in the block ("swine flu"): a common noun here
        self.lower_seen = {w for w, c in zip(W.wt, W.cap, strict=True) if not c and w.islower()}
        # single-word hits glued after a capitalised non-place word ("Jacob Zuma", "Hulusi Akar"):
        # the same word alone elsewhere in the block is that surname too ("Zuma said")
        self.surnames = set()
        for (i, j), k in hits.items():
            if i != j or not W.sent_cased[W.sid[i]] or _major(found[k], k):
                continue
            p, q = i - 1, i + 1
            if p >= 0 and W.sid[p] == W.sid[i] and W.joined[p] and _key(W.wt[p]) in t.title:
                self.surnames.add(k)  # "Foreign Minister Wang ... Wang said"
            elif p >= 0 and W.sid[p] == W.sid[i] and W.joined[p] and W.cap[p] and W.wt[p][1:].islower() \
                    and not W.first_in_sentence[p] and not self.place_word(p):  # "Jacob Zuma", not "CTV Winnipeg"
                self.surnames.add(k)
            elif q < W.n and W.sid[q] == W.sid[i] and W.joined[i] and W.cap[q] and not self.place_word(q) \
                    and _key(W.wt[q]) in t.person:
                self.surnames.add(k)

    def place_word(self, k: int) -> bool:
        """Word k may stand next to a place name without making it part of another name."""
        W, t = self.W, self.t
        low, key = W.low[k], _key(W.wt[k])
        if low in t.connector or low in t.feature or key in t.never or key in t.title or _DIRECTION.match(low):
            return True
        cands = self.hit_at.get(k)
        return bool(cands) and (not _common(W.wt[k]) or _major(cands, key)) and key not in t.contextual


def _accept(C: _Context, i: int, j: int, key: str, cands) -> bool:
    """Context rules for a gazetteer match on words i..j (see the module docstring)."""
    W, t = C.W, C.t
    cased = W.sent_cased[W.sid[i]]
    if key in t.never or key in t.title or len(key.replace(" ", "")) < 2:
        return False
    if i == j and (_CONTRACTION.search(W.wt[i]) or _CAMEL.match(W.wt[i])):
        return False
    prev = i - 1 if i > 0 and W.sid[i - 1] == W.sid[i] else None
    nxt = j + 1 if j + 1 < W.n and W.sid[j + 1] == W.sid[j] else None
    cue = prev
    if cue is not None and W.low[cue] == "the" and cue > 0 and W.sid[cue - 1] == W.sid[i]:
        cue -= 1  # "at the White House"
    cue_low = W.low[cue] if cue is not None else ""
    locative = cue_low in t.locative or (
        cue is not None and cue_low == "of" and cue >= 1 and W.low[cue - 1] in t.settlement_before)
    strict = cue_low in _STRICT_LOCATIVE or (locative and cue_low == "of")  # "to Putin", "from Reuters": no
    if (key in t.contextual or key in C.surnames) and not strict:
        return False
    if prev is not None and _key(W.wt[prev]) in t.title:
        return False
    major = _major(cands, key) and (i != j or bool(_literal(cands, W.wt[i])))  # "This" is not Thiès
    if i == j and cased and _is_caps(W.wt[i]):
        # an ALL-CAPS word in running text: an acronym (UN, NAFTA) unless it names a country (US,
        # UAE) or a major place, or opens a line (a dateline: "BEIRUT (AP) —")
        short = sum(c.isalpha() for c in W.wt[i]) <= 4
        if not (_names_country(cands) or (not short and (major or W.first_in_sentence[i]))):
            return False
    if i == j and not major and (W.first_in_sentence[i] or not cased) and not _literal(cands, W.wt[i]):
        # where its capital says nothing, a word must be literally a place's name, not only share
        # its key ("Shelling" is a key of "Schilling")
        return False
    if i == j and major and (W.first_in_sentence[i] or not cased) and _zipf(W.wt[i]) >= VERY_COMMON_ZIPF \
            and not (cased and _is_caps(W.wt[i])):
        return False  # "Man ..." (Isle of Man), "Chad ..." at a sentence start or in a headline
    if i != j and not cased and not major and all(_common(W.wt[k]) or W.low[k] in t.connector
                                                  for k in range(i, j + 1)):
        return False  # "THE VILLAGE" in a headline
    common = i == j and _common(W.wt[i])
    if common and not major:
        # a common English word ("In", "Commerce", "Park", "Police"): a place only after a locative
        # cue, before ", <country or province>", or when a place of that name is bigger than the
        # word is frequent (Boston, Reading: population >= 10 ** zipf); never where the block also
        # uses it in lower case ("Swine flu ... swine flu")
        comma_major = (j + 2 < W.n and W.sid[j + 2] == W.sid[j] and W.text[W.we[j]:W.ws[j + 1]] == ", "
                       and bool(C.hit_at.get(j + 1)) and _major(C.hit_at[j + 1], _key(W.wt[j + 1])))
        big = max((c.population or 0) for c in _literal(cands, W.wt[i]) or [None]
                  if c is not None) >= 10 ** _zipf(W.wt[i]) if _literal(cands, W.wt[i]) else False
        if W.wt[i].lower() in C.lower_seen and not comma_major:
            return False
        if not (big or ((locative or comma_major) and cased and not W.first_in_sentence[i])):
            return False
    if i == j and not major and cased and not locative and W.low[prev if prev is not None else i] != "of" and (
            (nxt is not None and W.low[nxt] in t.person_after)
            or (prev is not None and W.low[prev] in t.person_after and not W.first_in_sentence[i])):
        return False  # "Wang said", "said Wang": a person
    if not cased:
        return True
    # glued to other capitalised words that are not places: part of a longer name
    # ("Hulusi Akar", "Vladimir Putin", "New York Times", "Royal Alexandra Hospital")
    if prev is not None and W.joined[prev] and W.cap[prev] and not W.first_in_sentence[prev] \
            and not C.place_word(prev):
        return False
    if nxt is not None and W.joined[j] and W.cap[nxt] and not C.place_word(nxt) and not _names_state(cands):
        return False
    if common and not major and (
            (prev is not None and W.joined[prev] and W.cap[prev] and not W.first_in_sentence[prev]
             and not C.place_word(prev))
            or (nxt is not None and W.joined[j] and W.cap[nxt] and not C.place_word(nxt))):
        return False
    return True


_DIRECTION = re.compile(r"^(?:north|south|east|west|northern|southern|eastern|western|central|upper|"
                        r"lower|greater|old|new|rural|north-?east|north-?west|south-?east|south-?west)$")


_HINT_BEFORE = [(re.compile(r"\b(?:city|town|village|villages|towns|hamlet)\s+of\s+(?:the\s+)?$", re.I), "settlement"),
                (re.compile(r"\b(?:province|governorate)\s+(?:of\s+)?$", re.I), "admin1")]
_HINT_AFTER = [(re.compile(r"^\s*(?:province|governorate|countryside|region|oblast)\b", re.I), "admin1"),
               (re.compile(r"^\s*(?:city|town|village)\b", re.I), "settlement")]


def kind_hint_at(text: str, start: int, end: int) -> str | None:
    """What the words around ``text[start:end]`` say the place is: ``admin1``, ``settlement`` or None.

    Examples
    --------
    >>> t = "shelling in Idlib province and in the city of Idlib; Idlib city"
    >>> kind_hint_at(t, 12, 17), kind_hint_at(t, 46, 51), kind_hint_at(t, 53, 58)
    ('admin1', 'settlement', 'settlement')
    """
    after = text[end:end + 24]
    for rx, hint in _HINT_AFTER:
        if rx.search(after):
            return hint
    before = text[max(0, start - 32):start]
    for rx, hint in _HINT_BEFORE:
        if rx.search(before):
            return hint
    return None


@lru_cache(maxsize=1)
def _prefix_pattern():
    """Arabic place names built on a generic first word: Tal X, Deir X, Kafr X, Maarat al-X, Khirbat X
    (the ``name_prefix`` words of toponym_cues.csv); the whole run is one name."""
    cues = io.read_table(io.package_data("toponym_cues.csv"), "toponym_cues.csv")
    words = sorted(cues.loc[cues["role"] == "name_prefix", "word"], key=len, reverse=True)
    alt = "|".join(re.escape(w) for w in words)
    return re.compile(rf"(?<![\w{_APOS}-])(?P<n>(?:{alt})(?:(?:[ \u00a0]|-){_ART}?{_CAPW})+)(?![\w{_APOS}])")


def _pattern_mentions(text: str, t: _Tables) -> list[tuple[int, int, str | None]]:
    """Names framed by report patterns ("the village of X", "X countryside", "captured X")."""
    out = set()
    for rx, hint, explicit in _PATTERNS + [(_prefix_pattern(), None, True)]:
        for m in rx.finditer(text):
            base, chunk, pos = m.start("n"), m.group("n"), 0
            for part in _SPLIT_LIST.split(chunk):
                k = chunk.index(part, pos)
                pos = k + len(part)
                s, e, name = base + k, base + k + len(part), part
                if _POSSESSIVE.search(name):
                    name, e = name[:-2], e - 2
                if name and name[-1] in _APOS:
                    name, e = name[:-1], e - 1
                while True:  # a capitalised function word is not part of the name ("The", "In")
                    head = re.match(r"(?:The|A|An|In|On|At|Near|From|To|And|But|As|By|Of)\s+", name)
                    if not head:
                        break
                    name, s = name[head.end():], s + head.end()
                words = name.replace("-", " ").split()
                if words and ((all(_common(w) for w in words) and not explicit) or any(_is_caps(w) for w in words)):
                    continue
                if not words or any((_key(w) in t.never and not (len(words) > 1 and _DIRECTION.match(w.lower())))
                                    or _key(w) in t.title for w in words):
                    continue
                if not explicit and (_key(name) in t.contextual or _key(words[0]) in t.contextual):
                    continue
                out.add((s, e, hint))
    best: dict[tuple[int, int], str | None] = {}
    for s, e, hint in out:  # one entry per span; a hint from any pattern wins over none
        best[(s, e)] = best.get((s, e)) or hint
    return sorted((s, e, h) for (s, e), h in best.items())


def find_mentions(text: str, index, *, report: str = "", offset: int = 0) -> pd.DataFrame:
    """Find every place mention in ``text``.

    Parameters
    ----------
    text : str
        The report text (or one block of it).
    index : GazetteerIndex
        Anything with ``lookup_many(keys) -> dict[key, list[Candidate]]`` and ``max_words``.
    report : str
        Report name stored in the ``report`` column.
    offset : int
        Added to ``start``/``end`` (the block's offset in the whole report).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`COLUMNS`; one row per mention in text order. ``text[start - offset:end -
        offset] == mention`` always. ``key`` is the normalised name, ``kind_hint`` is ``None``,
        ``'admin1'`` or ``'settlement'``.

    Examples
    --------
    >>> from geo_idlib.places.store import load_index
    >>> m = find_mentions("Syrian forces shelled Sarmin, near Idlib.", load_index())
    >>> list(m["mention"]), list(m["start"])
    (['Sarmin', 'Idlib'], [22, 35])
    """
    t = _tables()
    W = _Words(text)
    max_words = max(1, min(int(getattr(index, "max_words", 6) or 6), 8))
    spans = _candidate_spans(W, t, max_words)
    found = index.lookup_many(sorted(set(spans.values()))) if spans else {}
    hits = {ij: k for ij, k in spans.items() if found.get(k)}
    matches = _gazetteer_matches(text, W, _Context(W, t, hits, found), hits, found)
    matches = _with_pattern_mentions(text, W, t, matches)
    return _mentions_table(text, W, matches, report, offset)


def _gazetteer_matches(text: str, W: _Words, C: _Context, hits: dict, found: dict) -> list[tuple[int, int, str | None]]:
    """``(char start, char end, kind_hint)`` of the gazetteer hits the context rules accept: the
    longest accepted hit at each word, left to right."""
    longest: dict[int, list[int]] = {}
    for i, j in hits:
        longest.setdefault(i, []).append(j)
    matches: list[tuple[int, int, str | None]] = []
    i = 0
    while i < W.n:
        took = False
        for j in sorted(longest.get(i, ()), reverse=True):
            key = hits[(i, j)]
            if _accept(C, i, j, key, found[key]):
                matches.append((W.ws[i], W.we[j], kind_hint_at(text, W.ws[i], W.we[j])))
                i = j + 1
                took = True
                break
        if not took:
            i += 1
    return matches


def _with_pattern_mentions(text: str, W: _Words, t: _Tables, matches: list) -> list[tuple[int, int, str | None]]:
    """``matches`` plus the pattern names the gazetteer missed; a longer pattern name replaces the
    matches inside it. Sorted by position."""
    matches = list(matches)
    skip_ranges = [W.sents[k] for k, s in enumerate(W.sent_skip) if s]
    for s, e, hint in _pattern_mentions(text, t):
        if any(a <= s < b for a, b in skip_ranges):
            continue
        inside = [mm for mm in matches if mm[0] < e and s < mm[1]]
        if not inside:
            matches.append((s, e, hint))
        elif all(s <= a and b <= e for a, b, _ in inside) and (len(inside) > 1 or inside[0][:2] != (s, e)) \
                and not any(text[a[1]:b[0]] in "-‐‑" for a, b in zip(inside, inside[1:], strict=False)):  # "Aleppo-Damascus" stays two
            # a longer name around known ones ("Eastern Ghouta", "Sarmin Jadida"), unless it only
            # adds a feature word ("Idlib Governorate" stays "Idlib" with an admin1 hint)
            tail = text[inside[-1][1]:e].strip().lower()
            if len(inside) > 1 or not tail or tail.split()[0] not in t.feature:
                for mm in inside:
                    matches.remove(mm)
                matches.append((s, e, hint or inside[0][2]))
    matches.sort(key=lambda m: (m[0], m[1]))
    return matches


def _mentions_table(text: str, W: _Words, matches: list, report: str, offset: int) -> pd.DataFrame:
    """The mentions table (:data:`COLUMNS`) of ``matches``."""
    sent_starts = [s for s, _ in W.sents]
    cols: dict[str, list] = {c: [] for c in COLUMNS}
    for s, e, hint in matches:
        k = max(0, bisect.bisect_right(sent_starts, s) - 1)
        ss, se = W.sents[k] if W.sents else (0, len(text))
        cols["mention"].append(text[s:e])
        cols["start"].append(s + offset)
        cols["end"].append(e + offset)
        cols["sentence"].append(text[ss:se].strip())
        cols["key"].append(_key(text[s:e]))
        cols["kind_hint"].append(hint)
    n = len(matches)
    return pd.DataFrame({
        "report": pd.Series([report] * n, dtype=object),
        "mention": pd.Series(cols["mention"], dtype=object),
        "start": pd.Series(cols["start"], dtype="int64"),
        "end": pd.Series(cols["end"], dtype="int64"),
        "sentence": pd.Series(cols["sentence"], dtype=object),
        "key": pd.Series(cols["key"], dtype=object),
        "kind_hint": pd.Series(cols["kind_hint"], dtype=object),  # None, not NaN
    }, columns=COLUMNS)


def iter_mentions(blocks: Iterable[tuple[int, str]], index, *, report: str = ""):
    """Yield :func:`find_mentions` tables for ``(offset, text)`` blocks (from ``io.iter_report_blocks``)."""
    for off, block in blocks:
        yield find_mentions(block, index, report=report, offset=off)

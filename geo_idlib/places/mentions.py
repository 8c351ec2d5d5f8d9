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
import itertools
import math
import operator
import re
from array import array
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from .. import io
from . import automaton, build
from .normalize import APOSTROPHES, article_keys, consonant_key, literal_key, normalize, word_keys
from .rank import literal_names

if TYPE_CHECKING:  # pandas is imported where a table is built, not to find places
    import pandas as pd

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
# What may stand between two words of one name: one to three spaces, or a hyphen, then maybe an
# apostrophe ("Al-'Eis", "Kafr 'Awaid"); spelled out as a set, so a pair of words costs one look-up.
_JOIN_GAPS = frozenset(g + a for g in ({"".join(p) for n in (1, 2, 3) for p in itertools.product(" \u00a0", repeat=n)}
                                       | set("-‐‑")) for a in ("", *_APOS))
_DOTTED_ABBREVIATIONS = ("St", "Mt", "Ft")  # "St. Louis" is one name
# Sentence ends: terminal punctuation (+ closing quotes) and space, or a line break.
# (the lookahead, which says only what either branch starts with, lets the regex pass other
# characters quickly)
_SENT_END = re.compile(r"(?=[.!?…\n \t\u00a0])(?:[.!?…]+[\"'”’)\]]*[ \t\u00a0]+|[ \t\u00a0]*\n\s*)")
_NON_SPACE = re.compile(r"\S")
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
# The cue words after a name that some patterns end with ("... villages", "... province").
_SETTLEMENTS_AFTER = r"(?i:villages|towns|village|town)\b"
_ADMIN1_AFTER = r"(?i:countryside|province|governorate)\b"
_DISTRICT_AFTER = r"(?:County|Parish|Township|Borough|District|Subdistrict)\b"
_FEATURE_AFTER = r"(?:river|lake|dam|mountains?|hills?|airbase|air\s+base|airport|airfield|plain|valley|region)\b"


def _ends_with(cue: str) -> re.Pattern:
    """Where a pattern that ends with the cue words ``cue`` after a space can end (its trigger)."""
    return re.compile(rf"(?<=\s){cue}")


# Each pattern: (regex with a group "n" holding one name or a list of names, kind_hint, explicit,
# trigger). Separate regexes so that overlapping frames ("the Shiite villages of Foua and Kfraya") all
# match. The trigger says which words a block needs for the pattern to be tried, so that each
# pattern costs nothing in most blocks: ``("at", words)``: the match starts at one of these words (it
# is tried there only, as ``finditer`` would find it); ``("end", words, cue)``: the block has one of
# these words and the match ends with the cue words (``cue``: where they are), so it is looked for
# only in the stretch of text a list of names can span before them (:func:`_pattern_matches`).
_PATTERNS = [
    (re.compile(rf"\b(?i:villages?|towns?|city|hamlets?)\s+of\s+(?:the\s+)?(?P<n>{_LIST})"), "settlement", True,
     ("at", frozenset({"village", "villages", "town", "towns", "city", "hamlet", "hamlets"}))),
    (re.compile(rf"(?P<n>{_LIST})\s+{_SETTLEMENTS_AFTER}"), "settlement", False,
     ("end", frozenset({"villages", "towns", "village", "town"}), _ends_with(_SETTLEMENTS_AFTER))),
    (re.compile(rf"(?P<n>{_NAME})\s+{_ADMIN1_AFTER}"), "admin1", False,
     ("end", frozenset({"countryside", "province", "governorate"}), _ends_with(_ADMIN1_AFTER))),
    (re.compile(rf"(?P<n>{_NAME}\s+{_DISTRICT_AFTER[:-2]})\b"), None, True,
     ("end", frozenset({"county", "parish", "township", "borough", "district", "subdistrict"}),
      _ends_with(_DISTRICT_AFTER))),
    (re.compile(rf"\b(?i:captured|seized|recaptured|retook|took\s+control\s+of|took\s+over|entered|stormed"
                rf"|shelled|struck|bombed|bombarded|hit|targeted|attacked|raided|besieged|liberated|reached"
                rf"|near|outskirts\s+of|advanced\s+on|advanced\s+towards?)\s+(?P<n>{_LIST})"), None, False,
     ("at", frozenset({"captured", "seized", "recaptured", "retook", "took", "entered", "stormed", "shelled",
                       "struck", "bombed", "bombarded", "hit", "targeted", "attacked", "raided", "besieged",
                       "liberated", "reached", "near", "outskirts", "advanced"}))),
    (re.compile(rf"\b(?i:in|into|around|outside|towards?)\s+(?P<n>{_NAME}(?:\s+and\s+{_NAME})?)(?![{_APOS}\w])"),
     None, False, ("at", frozenset({"in", "into", "around", "outside", "toward", "towards"}))),
    # a name before a feature word in lower case: "the Orontes river", "the Ghab plain", "Menagh airbase"
    # (kind from the word; in "the Neches River" the word is part of the name)
    (re.compile(rf"(?P<n>{_NAME})\s+{_FEATURE_AFTER}"), None, False,
     ("end", frozenset({"river", "lake", "dam", "mountain", "mountains", "hill", "hills", "airbase", "base", "airport",
                        "airfield", "plain", "valley", "region"}), _ends_with(_FEATURE_AFTER))),
]
# A character no name, list of names or cue word of the patterns holds: letters, digits, apostrophes,
# spaces, commas and hyphens do (checked by tests/test_toponyms.py).
_LIST_BREAK = re.compile(rf"[^\w{_APOS}\s,\-]")
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
    orgs: frozenset  # organisation names of several words, as tuples of word keys (:func:`_name_words`)
    org_prefixes: frozenset  # their first words, first two words, ...
    arabic_prefix: frozenset  # Arabic words that begin place names (تل, كفر, الشيخ), normalised


@lru_cache(maxsize=1)
def _tables() -> _Tables:
    np_ = io.package_data_rows("not_places.csv")
    cues = io.package_data_rows("toponym_cues.csv")
    orgs = [r["name"] for r in io.package_data_rows("organisations.csv")]
    org_words = {_name_words(n) for n in orgs}
    org_words.discard(())

    def names(kinds):
        return frozenset(normalize(r["name"]) for r in np_ if r["kind"] in kinds)

    def words(role):
        return frozenset(r["word"].lower() for r in cues if r["role"] == role)

    return _Tables(
        never=names({"demonym", "weekday", "month", "common"}),
        contextual=names({"person", "weapon"}) | {w[0] for w in org_words if len(w) == 1},
        person=names({"person"}),
        title=names({"title"}),
        connector=words("connector"),
        locative=words("locative"),
        admin1_after=words("admin1_after"),
        settlement_before=words("settlement_before"),
        settlement_after=words("settlement_after"),
        person_after=words("person_after"),
        feature=words("feature") | words("admin1_after") | words("settlement_after"),
        orgs=frozenset(w for w in org_words if len(w) > 1),
        org_prefixes=frozenset(w[:k] for w in org_words if len(w) > 1 for k in range(1, len(w))),
        arabic_prefix=frozenset(normalize(r["word"]) for r in cues if r["role"] == "arabic_prefix"),
    )


def _name_words(name: str) -> tuple[str, ...]:
    """The word keys of a name as mention finding sees its words (possessives cut off, each word
    normalised with the article rule): how organisation names are matched."""
    words, hyph = [], []
    for m in _WORD.finditer(name):
        w = m.group()
        if len(w) > 2 and w[-1] in "sS" and w[-2] in _APOS:
            w = w[:-2]
        words.append(w.replace(".", ""))
        hyph.append(name[m.end():m.end() + 1] in "-‐‑" and m.end() < len(name))
    return tuple(k for k in word_keys(words, hyph) if k)


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
        (a, b), g = m.span(), m.group()
        if "\n" not in g:
            before = text[start:a].rsplit(None, 1)
            last = before[-1].lower().rstrip(".") if before else ""
            if last in _ABBREV or (len(last) == 1 and last.isalpha()) or text[b:b + 1].islower():
                continue
        end = a + len(g.rstrip())
        if end > start and _NON_SPACE.search(text, start, end):
            spans.append((start, end))
        start = b
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
    # count the letters of each case in C: bytes.translate deletes the others; the few characters
    # beyond ASCII (quotes, dashes, accented letters) one by one
    b = sentence.encode("ascii", "ignore")
    low, up = len(b.translate(None, _NOT_ASCII_LOWER)), len(b.translate(None, _NOT_ASCII_UPPER))
    if len(b) < len(sentence):
        rest = _ASCII_RUN.sub("", sentence)
        low, up = low + sum(map(str.islower, rest)), up + sum(map(str.isupper, rest))
    if not (low > 0 and up > 0 and up < 0.6 * (low + up)):
        return False
    # Title Case needs three capitalised long words for each other long word, each capital a letter
    # of ``up``: more long words in lower case than a third of ``up`` (counted from below: those
    # after a plain space, one of them maybe the first word) rule it out without looking further
    if 3 * (len(_LOWER_LONG_WORD.findall(sentence)) - 1) > up:
        return True
    # the first letters of the words of four characters or more but the first (always capitalised)
    first = _FIRST_TOKEN.match(sentence)
    initials = list(filter(str.isalpha, _LONG_WORD_INITIAL.findall(sentence, first.end() if first else 0)))
    return not (len(initials) >= 4 and sum(map(str.isupper, initials)) >= 0.75 * len(initials))


_ASCII_RUN = re.compile(r"[\x00-\x7f]+")
# words as str.split() cuts them: the first, and the first letter of those of four characters or more
_FIRST_TOKEN = re.compile(r"\s*\S+")
_LONG_WORD_INITIAL = re.compile(r"(?<!\S)(\S)(?=\S{3})")
_LOWER_LONG_WORD = re.compile(r" [a-z]\S{3}")
_NOT_ASCII_LOWER = bytes(b for b in range(256) if not 97 <= b <= 122)
_NOT_ASCII_UPPER = bytes(b for b in range(256) if not 65 <= b <= 90)


@lru_cache(maxsize=1 << 16)
def _zipf(word: str) -> float:
    """The word's Zipf frequency in English (wordfreq), exact from :data:`COMMON_ZIPF` up (every
    threshold here is at least that; rarer words give 0.0), from :func:`common_words` alone, so
    wordfreq's full list (~30 MB, 0.2 s) is never loaded.

    A word of letters (and apostrophes) is looked up as it is; another ("U.S.", "a.m.") is split
    as wordfreq splits it and its tokens' frequencies combined as wordfreq combines them
    (1/f = Σ 1/fᵢ), which is below the threshold as soon as one token is. A word with digits
    ("ITV3") counts as rare.

    Examples
    --------
    >>> _zipf("U.S.") == common_words()["u.s"], _zipf("Zuma"), _zipf("ITV3")
    (True, 0.0, 0.0)
    """
    w = word.lower().replace("’", "'")
    table = common_words()
    if _LETTERS_ONLY.match(w):
        return table.get(w, 0.0)
    from wordfreq import tokenize

    tokens = tokenize(w, "en")
    if not tokens or any(t not in table for t in tokens):
        return 0.0
    return round(9 - math.log10(sum(10 ** (9 - table[t]) for t in tokens)), 2)


_LETTERS_ONLY = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)*\Z")


@lru_cache(maxsize=1)
def common_words() -> dict[str, float]:
    """Every English word with a Zipf frequency of at least :data:`COMMON_ZIPF` (about 7,000 words)
    and its frequency, from wordfreq; computed once per wordfreq version and kept as JSON in
    :func:`geo_idlib.io.cache_dir`."""
    from importlib.metadata import version

    path = io.cache_dir() / f"wordfreq-en-zipf{COMMON_ZIPF:g}-{version('wordfreq')}.json"
    try:
        return io.read_json_file(path)
    except (OSError, ValueError):
        pass
    from wordfreq import iter_wordlist, zipf_frequency

    table = {}
    for w in iter_wordlist("en"):
        z = zipf_frequency(w, "en")
        if z < COMMON_ZIPF:
            break
        table[w] = z
    io.write_text(path, io.dumps_json(table), overwrite=True)
    return table


def _common(word: str) -> bool:
    return _zipf(word) >= COMMON_ZIPF


#: Arabic has no capitals to tell a name from a word: an Arabic word at least this frequent in Arabic
#: (wordfreq Zipf scale) is a place only when it names a country, a first-level division or its
#: seat or a capital ("حلب" 4.9, "إدلب" 4.3; "جديدة" 5.6 "new", "نور" 5.0 "light", "مشهد" 4.5
#: "scene", although Mashhad has three million people, are not); one at least
#: :data:`ARABIC_NEVER_ZIPF` never is ("إلى" 6.9 "to", "بين" 6.4 "between"). Tuned on the Arabic
#: dev set (scripts/eval_arabic.py).
ARABIC_COMMON_ZIPF = 3.9
ARABIC_NEVER_ZIPF = 6.0


@lru_cache(maxsize=1 << 16)
def _zipf_ar(word: str) -> float:
    """The word's Zipf frequency in Arabic (wordfreq), on its normalised spelling's first form."""
    from wordfreq import zipf_frequency

    return zipf_frequency(word, "ar")


def _arabic_word_ok(word: str, cands, key: str) -> bool:
    """An Arabic single-word match: not a frequent Arabic word unless a major place (see
    :data:`ARABIC_COMMON_ZIPF`)."""
    z = _zipf_ar(word)
    if z >= ARABIC_NEVER_ZIPF:
        return False
    return z < ARABIC_COMMON_ZIPF or _major(cands, key) or any(c.feature_code in ("PPLA", "PPLC") for c in cands)


_MAJOR_CODES = ("PCL", "ADM1", "CONT", "RGN", "PPLC")


def _literal(cands, surface: str) -> list:
    """Candidates whose own name or an alternate name is literally ``surface`` (not only its key):
    "Read" is a key of Riyadh (alternate name "Riad") but not literally one of its names."""
    f = literal_key(surface)
    return [c for c in cands if f in literal_names(c)]


def _major(cands, key: str) -> bool:
    """A country, region, capital, first-level division of 100,000 people, or a city of a million
    named exactly so."""
    return any((c.feature_code.startswith(_MAJOR_CODES) and (c.feature_code != "ADM1" or c.population >= 100_000))
               or (c.population >= MAJOR_POPULATION and (_key(c.name) + " ").startswith(key + " "))
               for c in cands)


class _Words:
    """The words of a text with their spans, sentences and join/capitalisation flags.

    Built once per block with a few C-level passes over the text, not a loop per word: the words
    and the gaps between them come from one ``re.split`` (their spans are the running sum of their
    lengths), each word's sentence from one bisection of all word starts, and the flags from numpy
    over the words' first characters and the gaps (:func:`_word_flags`); Python looks only at the
    few words and gaps those cannot decide.
    """

    def __init__(self, text: str, names=None, max_words: int = 6):
        self.text = text
        self.sents = sents = split_sentences(text)
        self.sent_cased = [_cased(text[s:e]) for s, e in sents]
        self.sent_skip = [bool(_CREDIT.match(text[s:e])) for s, e in sents]
        parts = _WORD_SPLIT.split(text)  # [gap, word, gap, word, ..., gap]
        wt, after = parts[1::2], parts[2::2]  # the words and the gap after each
        ws = np.fromiter(map(len, itertools.islice(parts, 0, None, 2)), dtype=np.int64, count=len(wt))
        del parts
        np.cumsum(ws, out=ws)  # the gaps before each word
        we = np.fromiter(map(len, wt), dtype=np.int64, count=len(wt))
        ws[1:] += np.cumsum(we[:-1])  # and the words
        we += ws
        self.arabic = bool(_ARABIC_LETTER.search(text))
        self.clitics = names is not None and self.arabic and bool(_ARABIC_CLITIC_START.search(text))
        if self.clitics:  # Arabic clitics written onto names become words of their own
            wt, starts = split_clitics(wt, array("l", ws.tobytes()), names, max_words)
            ws = np.frombuffer(starts, dtype=np.int64)
            we = ws + np.fromiter(map(len, wt), dtype=np.int64, count=len(wt))
            after = [text[e:s] for e, s in zip(we.tolist(), [*ws[1:].tolist(), len(text)], strict=True)]
        poss = bytearray(map(str.endswith, wt, itertools.repeat(_POSSESSIVE_ENDS)))
        if any(poss):  # "Syria's": the word is "Syria", and a possessive ends any name
            for i in np.flatnonzero(np.frombuffer(poss, dtype=np.uint8)).tolist():
                wt[i] = wt[i][:-2]
            we = we - 2 * np.frombuffer(poss, dtype=np.uint8)
        # each word's sentence: one bisection of all word starts at once
        sid = np.searchsorted(np.array([s for s, _ in sents], dtype=np.int64), ws, side="right") - 1
        self.cap, self.first_in_sentence, self.joined = _word_flags(wt, after, sid, poss, self.sent_cased)
        del after
        # plain arrays, one at a time (a block's peak memory): Python indexes them fastest
        self.ws = array("l", ws.tobytes())
        del ws
        self.we = array("l", we.tobytes())
        del we
        self.wt, self.poss, self.sid = wt, poss, array("l", sid.tobytes())
        self.n = len(wt)
        self.low = list(map(str.lower, wt))
        self._lower_seen: set[str] | None = None
        self._reversed: str | None = None
        self._triggers: dict[str, list[int]] | None = None

    @property
    def lower_words(self) -> set[str]:
        """Every word of the block in lower case."""
        if not hasattr(self, "_lower_words"):
            self._lower_words = set(self.low)
        return self._lower_words

    def positions(self, words: frozenset) -> list[int]:
        """Indexes of the words whose lower case is in ``words``, in order (for the patterns' trigger
        words, from one index of them all made at the first call)."""
        present = words & self.lower_words
        if not present:
            return []
        if not present <= _trigger_words():
            return list(itertools.compress(range(self.n), map(words.__contains__, self.low)))
        if self._triggers is None:
            self._triggers = {}
            for k in itertools.compress(range(self.n), map(_trigger_words().__contains__, self.low)):
                self._triggers.setdefault(self.low[k], []).append(k)
        if len(present) == 1:
            return self._triggers[next(iter(present))]
        return sorted(k for w in present for k in self._triggers[w])

    @property
    def reversed_text(self) -> str:
        """The block's text backwards (for searching back from a position)."""
        if self._reversed is None:
            self._reversed = self.text[::-1]
        return self._reversed

    @property
    def lower_seen(self) -> set[str]:
        """The words written in lower case somewhere in the block ("swine flu")."""
        if self._lower_seen is None:
            self._lower_seen = set(filter(str.islower, itertools.compress(self.wt, map(operator.not_, self.cap))))
        return self._lower_seen


# The words of a text and, between them, the gaps (one ``re.split``).
_WORD_SPLIT = re.compile(f"({_WORD.pattern})")
# A word that ends in a possessive ("Syria's"): a word has a letter or digit before it.
_POSSESSIVE_ENDS = tuple(a + s for a in _APOS for s in "sS")


def _word_flags(wt: list[str], after, sid, poss: bytearray, sent_cased: list[bool]
                ) -> tuple[bytearray, bytearray, bytearray]:
    """``(cap, first, joined)`` of the words ``wt`` (``after``: the text between each word and the
    next; ``sid``: their sentences, a numpy array): capitalised (its sentence's capitals say
    nothing, or its first letter is a capital, or it has no case and :func:`_is_cap`); first of its
    sentence; joined to the next word into one name (same sentence, no possessive, a gap of
    :data:`_JOIN_GAPS` or "St. "). Per word only C-level maps; Python sees the few words they cannot
    decide."""
    n = len(wt)
    if not n:
        return bytearray(), bytearray(), bytearray(1)
    upper = np.fromiter(map(str.isupper, map(_FIRST, wt)), dtype=bool, count=n)
    lower = np.fromiter(map(str.islower, map(_FIRST, wt)), dtype=bool, count=n)
    cap = upper | ~np.array(sent_cased, dtype=bool)[sid]
    for k in np.flatnonzero(~lower & ~cap).tolist():  # a digit, a letter without case
        cap[k] = _is_cap(wt[k])
    first = np.ones(n, dtype=bool)
    first[1:] = sid[1:] != sid[:-1]
    joined = np.fromiter(map(_JOIN_GAPS.__contains__, after), dtype=bool, count=n)
    for k in np.flatnonzero(np.fromiter(map(". ".__eq__, after), dtype=bool, count=n)).tolist():
        joined[k] = wt[k] in _DOTTED_ABBREVIATIONS  # "St. Louis"
    joined[:-1] &= (sid[1:] == sid[:-1]) & (np.frombuffer(poss, dtype=np.uint8)[:-1] == 0)
    joined[-1] = False
    return bytearray(cap.tobytes()), bytearray(first.tobytes()), bytearray(joined.tobytes())


_FIRST = operator.itemgetter(0)


#: An Arabic word that may begin with clitics: a conjunction (و, ف) and/or a preposition (ب, ل, ك).
_ARABIC_CLITIC_START = re.compile(r"(?<![\w])[وفبلك][\u0621-\u064A]{2}")
_CLITIC = re.compile(r"[وف]?[بلك]|[وف]")
_ARABIC_LETTER = re.compile(r"[\u0621-\u064A]")


def split_clitics(wt: list[str], ws, names, max_words: int = 6) -> tuple[list[str], array]:
    """The words ``wt`` (starting at ``ws``) with the Arabic clitics split off the names they are
    written onto: و ف (and, so) and ب ل ك (in, to, like), alone or together, become a word of their
    own when the rest of the word starts a name the gazetteer knows (with the words after it) and
    the whole word does not, the rest has three letters or more, and the whole is not a word more
    frequent in Arabic than the rest (:data:`ARABIC_COMMON_ZIPF`: ورقة is "paper", not و + رقة; وليد
    is a man's name): وسراقب → و + سراقب, وخان شيخون → و + خان شيخون, والنقير → و + النقير;
    بنش, بداما, بينين stay whole. The shortest clitic that leaves a name wins (وبنش → و + بنش).

    >>> from geo_idlib.places.store import load_index
    >>> a = automaton.load(load_index())
    >>> split_clitics(["وحلب", "وبنش", "ولكن"], array("l", [0, 5, 10]), a)
    (['و', 'حلب', 'و', 'بنش', 'ولكن'], array('l', [0, 1, 5, 6, 10]))
    >>> split_clitics(["بنش", "وخان", "شيخون"], array("l", [0, 4, 9]), a)[0]
    ['بنش', 'و', 'خان', 'شيخون']
    """
    out_w: list[str] = []
    out_s = array("l")
    for k, (w, s) in enumerate(zip(wt, ws, strict=True)):
        split = 0
        if len(w) > 2 and w[0] in "وفبلك" and _ARABIC_LETTER.match(w, 1):
            following = [x for x in wt[k + 1:k + max_words] if _ARABIC_LETTER.match(x)]
            if not _starts_name(names, [w, *following]):
                split = next((n for n in range(1, 3) if len(w) - n >= 3 and _CLITIC.fullmatch(w[:n])
                              and _zipf_ar(w) < max(ARABIC_COMMON_ZIPF, _zipf_ar(w[n:]))
                              and _starts_name(names, [w[n:], *following])), 0)
        if split:
            out_w += [w[:split], w[split:]]
            out_s.extend((s, s + split))
        else:
            out_w.append(w)
            out_s.append(s)
    return out_w, out_s


def _starts_name(names, words: list[str]) -> bool:
    """Whether a gazetteer key starts at the first of ``words`` (and ends at one of their ends)."""
    keys = [k for k in word_keys(words, [False] * len(words)) if k]
    return bool(keys) and bool(names.prefixes(" ".join(keys)))


def _name_runs(W: _Words, t: _Tables, max_words: int) -> Iterator[tuple[int, list[int], int]]:
    """``(i, ends, stretch)`` for each word i where a name may start: the words j where it may end
    (capitalised, not a connector, joined to word i through capitalised words or connectors, at
    most ``max_words`` words) and the last word of that chain of joined words without the
    ``max_words`` bound. A name starts at a capitalised word (a connector only where capitals say
    nothing) or an article before a capitalised word ("al-Bab", "al Bab"), never in a photo credit.

    Computed for all words at once (numpy over the words' flags): the chain of word i ends at the
    first word k >= i not joined to a capitalised word or a connector.
    """
    n = W.n
    if not n:
        return
    cap = np.frombuffer(W.cap, dtype=np.uint8).astype(bool)
    conn = np.fromiter(map(t.connector.__contains__, W.low), dtype=bool, count=n)
    joined = np.frombuffer(W.joined, dtype=np.uint8)[:n].astype(bool)
    sid = np.frombuffer(W.sid, dtype=np.int64)
    start = cap & (~conn | ~np.array(W.sent_cased, dtype=bool)[sid])
    article = np.flatnonzero(np.fromiter(map(_ARTICLES.__contains__, W.low), dtype=bool, count=n)[:-1]
                             & joined[:-1] & cap[1:])
    for k in article.tolist():  # al-Bab, al Bab
        start[k] = start[k] or W.text[W.we[k]] in "-‐‑" or W.low[k] in ("al", "el")
    start &= ~np.array(W.sent_skip, dtype=bool)[sid]
    cont = np.zeros(n, dtype=bool)
    cont[:-1] = joined[:-1] & (cap[1:] | conn[1:])
    stops = np.flatnonzero(~cont)  # never empty: the last word is joined to nothing
    starts = np.flatnonzero(start)
    stretch = stops[np.searchsorted(stops, starts)]
    ends = np.flatnonzero(cap & ~conn)
    lo = np.searchsorted(ends, starts)
    hi = np.searchsorted(ends, np.minimum(stretch, starts + (max_words - 1)), side="right")
    ends_ = array("l", ends.tobytes()).tolist()
    for i, a, b, s in zip(*(array("l", x.astype(np.int64).tobytes()) for x in (starts, lo, hi, stretch)), strict=True):
        if a < b:  # (plain arrays: their ints are made one at a time)
            yield i, ends_[a:b], s


def _gazetteer_hits(W: _Words, t: _Tables, names, max_words: int) -> dict[tuple[int, int], str]:
    """Every run of words (i, j) that could be a proper name and whose key is a gazetteer key.

    Each chain of joined words is normalised once (:func:`~geo_idlib.places.normalize.article_keys`:
    each word's key, with the article rule where the word it looks at is in the run); for each word
    that can start a name (:func:`_name_runs`), one walk of the name automaton gives the keys
    starting there (:meth:`~geo_idlib.places.automaton.NameAutomaton.prefixes`). A run's key is then
    checked against the normalised text of the run itself, so a hit's key is exactly
    ``normalize(text)``.
    """
    out = {}
    text, ws, we, wt = W.text, W.ws, W.we, W.wt
    chain = (-1, -1, [], [], [])  # first and last word, keys, bare keys, following (article_keys)
    for i, ends, stretch in _name_runs(W, t, max_words):
        last = ends[-1]
        if last == i:  # one word: is its key a key of the gazetteer?
            w = wt[i]
            key = _key(w.replace(".", "") if "." in w else w)
            if key and key in names:
                out[(i, i)] = key
            continue
        if not chain[0] <= i <= last <= chain[1]:
            chain = (i, stretch, *_chain_keys(W, i, stretch))
        first, _, keys, bare, following = chain
        joined_keys, acc, end = [], "", last - first
        for k in range(i - first, end + 1):
            key = keys[k] if following[k] <= end else bare[k]
            acc = f"{acc} {key}" if acc and key else (acc or key)
            joined_keys.append(acc)
        found = names.prefixes(joined_keys[-1]) if joined_keys[-1] else ()
        if not found:
            continue
        for j in ends:
            if joined_keys[j - i] in found:
                key = _key(text[ws[i]:we[j]].replace(".", ""))
                if key == joined_keys[j - i] or key in names:
                    out[(i, j)] = key
    return out


#: Chains of joined words whose keys (:func:`_chain_keys`) stay in memory per process.
CHAIN_CACHE = 50_000
_CHAINS: dict[str, tuple[list[str], list[str], list[int]]] = {}


def _chain_keys(W: _Words, i: int, j: int) -> tuple[list[str], list[str], list[int]]:
    """:func:`~geo_idlib.places.normalize.article_keys` of words i..j, a chain of joined words (dots
    left out: "U.S." is "US"). Kept per process by the chain's text, which says what its words are
    (but where Arabic clitics were split off words)."""
    surface = W.text[W.ws[i]:W.we[j]]
    got = None if W.clitics else _CHAINS.get(surface)
    if got is None:
        text, we = W.text, W.we
        words = [w.replace(".", "") if "." in w else w for w in W.wt[i:j + 1]]
        got = article_keys(words, [we[k] < len(text) and text[we[k]] in "-‐‑" for k in range(i, j + 1)])
        if not W.clitics:
            if len(_CHAINS) >= CHAIN_CACHE:
                _CHAINS.clear()
            _CHAINS[surface] = got
    return got


#: Cues after which even a person's or an organisation's name is a place ("a school in Akar").
_STRICT_LOCATIVE = {"in", "near", "outside", "around", "into", "towards", "toward"}
_ARTICLES = {"al", "el", "ad", "an", "ar", "as", "ash", "at", "az", "ez", "es", "ed", "er", "et", "en"}


@lru_cache(maxsize=1 << 16)
def _is_caps(w: str) -> bool:
    """Two letters or more, all capitals ("UN", "IDLIB", "U.S.")."""
    letters = list(filter(str.isalpha, w))
    return len(letters) > 1 and all(map(str.isupper, letters))


_CONTRACTION = re.compile(rf"[{_APOS}](?:m|re|ve|ll|d|t|s)$", re.I)
_CAMEL = re.compile(r"^(?!Mc|Mac|O'|D'|De|Di|La|Le)(?:[A-Z][a-z]+[A-Z]|[A-Z]{2,}[a-z])")


def _names_state(cands) -> bool:
    """A country or first-level division ("Pakistan Army" still names Pakistan)."""
    return any(str(getattr(c, "feature_code", "")).startswith(("PCL", "ADM1")) for c in cands)


def _names_country(cands) -> bool:
    return any(str(getattr(c, "feature_code", "")).startswith("PCL") for c in cands)


#: Answers of :func:`_major` and :func:`_literal` kept across blocks (at most this many): they depend
#: only on a word and on the candidates of a gazetteer key, which are the index's (told apart by its
#: automaton's ``generation``).
ANSWERS_CACHE = 100_000
_ANSWERS: dict[tuple, object] = {}


class _Context:
    """What the whole block says about its words, for the context rules of :func:`_accept`.

    Candidates are named by their gazetteer key (``found[key]``), so that what is asked of them is
    answered once per process (:data:`ANSWERS_CACHE`)."""

    def __init__(self, W: _Words, t: _Tables, hits: dict, found: dict, generation: int):
        self.W, self.t, self.found, self.generation = W, t, found, generation
        # the key of the longest gazetteer hit starting at each word
        self.hit_at: dict[int, str] = {}
        for (i, _j), k in sorted(hits.items()):
            self.hit_at[i] = k
        # single-word hits glued after a capitalised non-place word ("Jacob Zuma", "Hulusi Akar"):
        # the same word alone elsewhere in the block is that surname too ("Zuma said")
        self.surnames = set()
        for (i, j), k in hits.items():
            if i != j or not W.sent_cased[W.sid[i]] or self.major(k, k):
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

    def _answer(self, what: int, hit: str, word: str):
        ak = (self.generation, what, hit, word)
        got = _ANSWERS.get(ak)
        if got is None:
            if len(_ANSWERS) >= ANSWERS_CACHE:
                _ANSWERS.clear()
            got = _ANSWERS[ak] = (_major if what == 0 else _literal)(self.found[hit], word)
        return got

    def major(self, hit: str, key: str) -> bool:
        """:func:`_major` of the candidates of the gazetteer key ``hit`` and the name ``key``."""
        return self._answer(0, hit, key)

    def literal(self, hit: str, surface: str) -> list:
        """:func:`_literal` of the candidates of the gazetteer key ``hit`` and the word ``surface``."""
        return self._answer(1, hit, surface)

    def place_word(self, k: int) -> bool:
        """Word k may stand next to a place name without making it part of another name."""
        W, t = self.W, self.t
        low, key = W.low[k], _key(W.wt[k])
        if low in t.connector or low in t.feature or key in t.never or key in t.title or _DIRECTION.match(low):
            return True
        hit = self.hit_at.get(k)
        return hit is not None and bool(self.found[hit]) and (not _common(W.wt[k]) or self.major(hit, key)) \
            and key not in t.contextual


def _accept(C: _Context, i: int, j: int, key: str) -> bool:
    """Context rules for a gazetteer match on words i..j of key ``key`` (see the module docstring)."""
    W, t, cands = C.W, C.t, C.found[key]
    cased = W.sent_cased[W.sid[i]]
    if key in t.never or key in t.title or len(key.replace(" ", "")) < 2:
        return False
    if i == j and (_CONTRACTION.search(W.wt[i]) or _CAMEL.match(W.wt[i])):
        return False
    if i == j and _ARABIC_LETTER.match(W.wt[i]) and not _arabic_word_ok(W.wt[i], cands, key):
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
    major = C.major(key, key) and (i != j or bool(C.literal(key, W.wt[i])))  # "This" is not Thiès
    if i == j and cased and _is_caps(W.wt[i]):
        # an ALL-CAPS word in running text: an acronym (UN, NAFTA) unless it names a country (US,
        # UAE) or a major place, or opens a line (a dateline: "BEIRUT (AP) —", "HAMA, Syria —")
        short = sum(c.isalpha() for c in W.wt[i]) <= 4
        if not (_names_country(cands) or _dateline(W, i, j) or (not short and (major or W.first_in_sentence[i]))):
            return False
    if i == j and not major and (W.first_in_sentence[i] or not cased) and not C.literal(key, W.wt[i]):
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
                       and bool(C.found.get(C.hit_at.get(j + 1)))
                       and C.major(C.hit_at[j + 1], _key(W.wt[j + 1])))
        lit = C.literal(key, W.wt[i])
        big = bool(lit) and max(c.population or 0 for c in lit) >= 10 ** _zipf(W.wt[i])
        if W.wt[i].lower() in W.lower_seen and not comma_major:  # a common noun here
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


_DATELINE_END = re.compile(r"\s*(?:,|\(|[—–-]\s)")


def _dateline(W: _Words, i: int, j: int) -> bool:
    """Words i..j in capitals open a line and are followed by a comma, a bracket or a dash: the
    place of a dateline ("KYIV, Ukraine —", "IDLIB, Syria (AP) —", "HAMA — ...")."""
    line_start = W.text.rfind("\n", 0, W.ws[i]) + 1
    return (not W.text[line_start:W.ws[i]].strip() and bool(_DATELINE_END.match(W.text, W.we[j]))
            and all(_is_caps(W.wt[k]) or W.low[k] in ("al", "el", "ad", "as", "ez") for k in range(i, j + 1)))


_DIRECTION = re.compile(r"^(?:north|south|east|west|northern|southern|eastern|western|central|upper|"
                        r"lower|greater|old|new|rural|north-?east|north-?west|south-?east|south-?west)$")


_HINT_BEFORE = [(re.compile(r"\b(?:city|town|village|villages|towns|hamlet)\s+of\s+(?:the\s+)?$", re.I), "settlement"),
                (re.compile(r"\b(?:province|governorate)\s+(?:of\s+)?$", re.I), "admin1")]
_HINT_AFTER = [(re.compile(r"^\s*(?:province|governorate|countryside|region|oblast)\b", re.I), "admin1"),
               (re.compile(r"^\s*(?:city|town|village)\b", re.I), "settlement")]


#: The kinds of place the feature words after a name ask for (toponym_cues.csv, roles ``<kind>_after``):
#: a river, lake or dam; a mountain or hill; an airbase or airport; a road; a plain or valley.
FEATURE_KINDS = ("water", "mountain", "airport", "road", "area")


@lru_cache(maxsize=1)
def _feature_hints() -> list[tuple[re.Pattern, str | None]]:
    """``(regex on the text after a name, kind)`` for each feature kind, from toponym_cues.csv, after
    one regex that matches where any kind's or :data:`_HINT_AFTER`'s does (kind None)."""
    cues = io.package_data_rows("toponym_cues.csv")
    out = []
    for kind in FEATURE_KINDS:
        words = sorted((r["word"] for r in cues if r["role"] == f"{kind}_after"), key=len, reverse=True)
        alt = "|".join(re.escape(w).replace(r"\ ", r"\s+") for w in words)
        out.append((re.compile(rf"^\s*(?:{alt})\b"), kind))  # lower case: in "Neches River" the word is part of the name
    # first, one regex for any of the words after a name (_HINT_AFTER's and these): most names have none
    either = "|".join(f"(?:{rx.pattern[4:]})" if rx.flags & re.I == 0 else f"(?i:{rx.pattern[4:]})"
                      for rx, _ in _HINT_AFTER + out)
    return [(re.compile(rf"^\s*(?:{either})"), None), *out]


def kind_hint_at(text: str, start: int, end: int) -> str | None:
    """What the words around ``text[start:end]`` say the place is: ``admin1``, ``settlement``, one
    of :data:`FEATURE_KINDS` ("the Orontes river" → ``water``, "Taftanaz airbase" → ``airport``,
    "the M4 highway" → ``road``, not after a hyphen: the "Aleppo-Damascus highway" joins two cities),
    or None.

    Examples
    --------
    >>> t = "shelling in Idlib province and in the city of Idlib; Idlib city"
    >>> kind_hint_at(t, 12, 17), kind_hint_at(t, 46, 51), kind_hint_at(t, 53, 58)
    ('admin1', 'settlement', 'settlement')
    >>> t = "the Orontes river, the Nayrab air base, the Aleppo-Damascus highway"
    >>> kind_hint_at(t, 4, 11), kind_hint_at(t, 23, 29), kind_hint_at(t, 51, 59)
    ('water', 'airport', None)
    """
    after = text[end:end + 24]
    rxs = _feature_hints()
    if rxs[0][0].search(after):  # a cue word follows: which one
        for rx, hint in _HINT_AFTER:
            if rx.search(after):
                return hint
        for rx, hint in rxs[1:]:
            if rx.search(after) and not (hint == "road" and start > 0 and text[start - 1] in "-‐‑"):
                return hint
    before = text[max(0, start - 32):start]
    for rx, hint in _HINT_BEFORE:
        if rx.search(before):
            return hint
    return None


@lru_cache(maxsize=1)
def _prefix_pattern():
    """Arabic place names built on a generic first word: Tal X, Deir X, Kafr X, Maarat al-X, Khirbat X
    (the ``name_prefix`` words of toponym_cues.csv); the whole run is one name. With its trigger
    (the prefix words, lower case)."""
    words = sorted((r["word"] for r in io.package_data_rows("toponym_cues.csv") if r["role"] == "name_prefix"),
                   key=len, reverse=True)
    alt = "|".join(re.escape(w) for w in words)
    rx = re.compile(rf"(?<![\w{_APOS}-])(?P<n>(?:{alt})(?:(?:[ \u00a0]|-){_ART}?{_CAPW})+)(?![\w{_APOS}])")
    return rx, None, True, ("at", frozenset(w.lower() for w in words))


@lru_cache(maxsize=1)
def _trigger_words() -> frozenset:
    """The words at which the patterns are tried (their ``at`` triggers)."""
    return frozenset().union(*(words for *_, (how, words, *_) in _PATTERNS + [_prefix_pattern()] if how == "at"))


def _pattern_matches(W: _Words, rx, trigger) -> Iterator[re.Match]:
    """The matches of one pattern in the block, as ``rx.finditer(text)`` gives them, tried only
    where (or when) its trigger words occur."""
    how, words = trigger[:2]
    if how == "end":
        yield from _matches_before(W, rx, trigger[2]) if not words.isdisjoint(W.lower_words) else ()
        return
    end = -1
    for k in W.positions(words):
        if W.ws[k] >= end:
            m = rx.match(W.text, W.ws[k])
            if m:
                end = m.end()
                yield m


def _matches_before(W: _Words, rx, cue) -> Iterator[re.Match]:
    """``rx.finditer(text)`` for a pattern whose matches end with cue words (``cue`` finds them) and
    hold no :data:`_LIST_BREAK` character: for each cue in turn, the next match is looked for from
    the last one's end, within the stretch of text between two break characters around the cue; a
    match cannot start before that stretch, nor look beyond it (its characters are breaks). A
    stretch without a match is passed over with all its cues, so the work is linear in the text."""
    text, end, stretch = W.text, 0, (0, 0)
    for c in cue.finditer(text):
        q = c.start()
        if q < end:
            continue
        if not stretch[0] <= q < stretch[1]:
            stop = _LIST_BREAK.search(text, q)
            before = _LIST_BREAK.search(W.reversed_text, len(text) - q)
            stretch = (len(text) - before.start() if before else 0, stop.start() if stop else len(text))
        m = rx.search(text, max(end, stretch[0]), stretch[1])
        end = m.end() if m else stretch[1]
        if m:
            yield m


def _pattern_mentions(W: _Words, t: _Tables, framed=()) -> list[tuple[int, int, str | None]]:
    """Names framed by report patterns ("the village of X", "X countryside", "captured X"), and
    ``framed`` (the names Arabic cue words and lists frame, :func:`_arabic_item_mentions`)."""
    out = set()
    for rx, hint, explicit, trigger in _PATTERNS + [_prefix_pattern()]:
        for m in _pattern_matches(W, rx, trigger):
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
                    head = _FUNCTION_WORD.match(name)
                    if not head:
                        break
                    name, s = name[head.end():], s + head.end()
                if _pattern_name_ok(name, explicit, t):
                    out.add((s, e, hint))
    out.update(framed)
    best: dict[tuple[int, int], str | None] = {}
    for s, e, hint in out:  # one entry per span; a hint from any pattern wins over none
        best[(s, e)] = best.get((s, e)) or hint
    return sorted((s, e, h) for (s, e), h in best.items())


_FUNCTION_WORD = re.compile(r"(?:The|A|An|In|On|At|Near|From|To|And|But|As|By|Of)\s+")

#: Arabic cue words (toponym_cues.csv): ``arabic_<kind>_before`` words say a place of that kind
#: follows (قرية X, بلدة X, ريف X, مطار X); ``arabic_settlements_before`` words, plural or dual, say
#: that several follow, a list (قرى X وY, بلدتي X وY); ``arabic_<kind>_head`` words begin the place's
#: own name (جبل الزاوية, تل النار, سهل الغاب). {role: (kind, the word begins the name: True, opens a
#: list: None)}.
_ARABIC_CUE_ROLES = {"arabic_settlement_before": ("settlement", False), "arabic_admin1_before": ("admin1", False),
                     "arabic_airport_before": ("airport", False), "arabic_mountain_head": ("mountain", True),
                     "arabic_area_head": ("area", True), "arabic_settlements_before": ("settlement", None)}
#: The most words of one item of an Arabic list that separators bound on both sides (الدير الشرقي،
#: زور أبو زيد و...); an item with no separator after it is one name's words (:func:`_arabic_name_end`).
ARABIC_ITEM_WORDS = 3
#: A list that no cue word opens frames its names when at least this many of its items are places
#: the gazetteer or the bridge found, or cue words frame (سراقب وحرش بنين وكفرنبل والجفتلك): one
#: known name next to a word ("سراقب وريفها", "and its countryside") frames nothing.
ARABIC_LIST_SEEDS = 2
# An Arabic word of letters only (diacritics and tatweel allowed): "و2" is none.
_ARABIC_WORD = re.compile(r"[\u0621-\u065F\u0670-\u06D3]+")


class _Item(NamedTuple):
    """A name an Arabic cue word or list frames: words ``i``..``j``, the first ``off`` letters of word
    ``i`` a clitic (والبارة, وجبل الزاوية); ``kind`` the kind of place the cue says."""

    i: int
    j: int
    off: int
    kind: str | None
    whole: bool  # one name even around a known one (جبل الزاوية, تل عاس)
    listed: bool  # in a list a plural cue opens (قرى ...): its words may all be frequent (طويل الشيخ)


@lru_cache(maxsize=1)
def _arabic_cues() -> dict[str, tuple[str, bool | None]]:
    """{normalised cue word: (kind, True: the word begins the name, False: a name follows, None: a
    list follows)}."""
    return {normalize(r["word"]): _ARABIC_CUE_ROLES[r["role"]] for r in io.package_data_rows("toponym_cues.csv")
            if r["role"] in _ARABIC_CUE_ROLES}


def _arabic_items(W: _Words, t: _Tables, spans: list[tuple[int, int]]) -> list[_Item]:
    """The names Arabic cue words and lists frame, known to the gazetteer or not (``spans``: the
    sorted character spans of the names found so far).

    - A cue word: قرية X, بلدة X, مدينة X, ريف X, مطار X (X is the name), جبل X, تل X, سهل X (the
      whole is the name); a list follows a plural cue (قرى X، Y وZ), and names joined by و a
      singular one (ريف إدلب وحماة).
    - A list no cue opens, when :data:`ARABIC_LIST_SEEDS` of its items are names found or names a
      cue frames: its other items are names too (سراقب وحرش بنين وكفرنبل).

    Items are separated by a comma or by the conjunction و, written apart or onto the next word
    (:func:`_next_item`); an item that separators bound has up to :data:`ARABIC_ITEM_WORDS` words
    (:func:`_item_ok`: طويل الشيخ، ركايا سجنة), the last item of a list is one name."""
    cues, items, seen = _arabic_cues(), [], set()
    for k in range(W.n - 1):
        cue = next(((n, cues[c]) for n in (0, 1, 2) if (n == 0 or _CLITIC.fullmatch(W.wt[k][:n]))
                    and (c := _key(W.wt[k][n:])) in cues), None) if _ARABIC_LETTER.match(W.wt[k]) else None
        if cue is None or W.sid[k + 1] != W.sid[k] or W.text[W.we[k]:W.ws[k + 1]].strip(" \u00a0\"'“”«»"):
            continue
        n, (kind, head) = cue
        if head:  # the cue word, without its clitic, begins the name
            j = _arabic_name_end(W, t, k + 1, head=True)
            if j is not None:
                items.append(_Item(k, j, n, kind, True, False))
            continue
        chain = _arabic_list(W, t, k + 1, 0, spans, commas=head is None)
        seen.update(w for i, j, _ in chain for w in range(i, j + 1))
        items += [_Item(i, j, off, _head_kind(W.wt[i][off:]) or kind, _one_name(W, t, i, j, off), head is None)
                  for i, j, off in chain]
    cued = {(it.i, it.j, it.off) for it in items}
    for j in range(W.n):
        nxt = _next_item(W, t, j) if _ARABIC_LETTER.match(W.wt[j]) else None
        if not isinstance(nxt, tuple) or nxt[0] in seen:
            continue
        i = _list_head(W, t, j, spans)
        chain = [(i, j, 0)] if i is not None else []
        chain += _arabic_list(W, t, *nxt, spans)
        seen.update(w for a, b, _ in chain for w in range(a, b + 1))
        if sum(_overlaps(spans, W.ws[a] + off, W.we[b]) or (a, b, off) in cued for a, b, off in chain) \
                >= ARABIC_LIST_SEEDS:
            items += [_Item(a, b, off, _head_kind(W.wt[a][off:]), _one_name(W, t, a, b, off), False)
                      for a, b, off in chain]
    return items


def _head_kind(w: str) -> str | None:
    """The kind of place a word that begins names says (جبل: a mountain, سهل: an area), or None: an
    item of a list keeps it (مطار أبو الظهور وجبل الأربعين)."""
    kind, head = _arabic_cues().get(_key(w), (None, False))
    return kind if head else None


def _one_name(W: _Words, t: _Tables, i: int, j: int, off: int) -> bool:
    """Two words of which the first begins names (تل عاس, كفر زيتا, أم نير): one name, even around
    a name the gazetteer knows."""
    return j == i + 1 and _arabic_prefix(W.wt[i][off:], t)


#: What :func:`_next_item` says when the list ends after a word.
_END = "end"


def _next_item(W: _Words, t: _Tables, j: int, commas: bool = True) -> tuple[int, int] | str | None:
    """What follows word j in a list: ``(k, off)`` when the next item starts at word k (``off``
    letters in: the conjunction) after the conjunction و (written apart, or onto the word: وسراقب)
    or, with ``commas``, a comma (، ,); :data:`_END` at other punctuation (quotes, a colon, a dash)
    or the sentence's end; None when word j + 1 continues the item."""
    k = j + 1
    if k >= W.n or W.sid[k] != W.sid[j]:
        return _END
    gap = W.text[W.we[j]:W.ws[k]].strip()
    if gap not in ("", "،", ","):
        return _END
    if W.wt[k] == "و":  # apart (و زور), or split off a known name (و + سراقب)
        after = k + 1 < W.n and W.sid[k + 1] == W.sid[k] and not W.text[W.we[k]:W.ws[k + 1]].strip()
        return (k + 1, 0) if after else _END
    if _conjunction(W.wt[k], t):
        return k, 1
    if gap:
        return (k, 0) if commas else _END
    return None


def _conjunction(w: str, t: _Tables) -> bool:
    """Whether an Arabic word begins with the conjunction و written onto it (وشوحة, والبارة, وتل),
    not with a و of its own: a word that begins names (وادي), or a word more frequent in Arabic than
    what follows its و (وسط "middle", ولكن "but")."""
    return (len(w) > 2 and w[0] == "و" and bool(_ARABIC_LETTER.match(w, 1)) and _key(w) not in t.arabic_prefix
            and (len(w) > 3 or _key(w[1:]) in t.arabic_prefix)
            and _zipf_ar(w) < max(ARABIC_COMMON_ZIPF, _zipf_ar(w[1:])))


def _arabic_list(W: _Words, t: _Tables, k: int, off: int, spans, commas: bool = True) -> list[tuple[int, int, int]]:
    """The items ``(i, j, off)`` of the list whose first item starts at word k (``off`` letters in;
    ``commas``: :func:`_next_item`): items that separators bound
    (:func:`_item_ok`), then one name (a name found, or :func:`_arabic_name_end`) where no separator
    follows."""
    items: list[tuple[int, int, int]] = []
    while k < W.n:
        j, nxt = next(((j, nxt) for j in range(k, min(W.n, k + ARABIC_ITEM_WORDS))
                       if (nxt := _next_item(W, t, j, commas)) is not None), (None, None))
        if j is None or not _item_ok(W, t, k, j, off, spans):
            j = _found_end(W, spans, k, off)
            j = _arabic_name_end(W, t, k, off) if j is None else j
            if j is not None:
                items.append((k, j, off))
            break
        items.append((k, j, off))
        if nxt == _END:
            break
        k, off = nxt
    return items


def _item_ok(W: _Words, t: _Tables, i: int, j: int, off: int, spans) -> bool:
    """Whether words i..j (``off`` letters in), bounded by separators, may be one item of a list:
    Arabic words that are no demonym, month or cue word; a name found (in ``spans``), or one with
    words rare in Arabic around it (:data:`ARABIC_COMMON_ZIPF`: زور المحروقة), or a single rare word,
    or several words none of them a function word (:data:`ARABIC_NEVER_ZIPF`: طويل الشيخ)."""
    words = [W.wt[i][off:], *W.wt[i + 1:j + 1]]
    if not all(_ARABIC_WORD.fullmatch(w) and len(w) > 1 and _key(w) not in t.never and not _cue_word(w)
               for w in words):
        return False
    if not off and _conjunction(words[0], t):  # ثلاث قرى وتل مرتفع: "three villages and a high hill"
        return False
    s, e = W.ws[i] + off, W.we[j]
    if _found_end(W, spans, i, off) == j:
        return True
    if _overlaps(spans, s, e):
        return all(_overlaps(spans, W.ws[k], W.we[k]) or _zipf_ar(w) < ARABIC_COMMON_ZIPF
                   for k, w in zip(range(i, j + 1), words, strict=True))
    if len(words) == 1:
        return _zipf_ar(words[0]) < ARABIC_COMMON_ZIPF
    return all(_zipf_ar(w) < ARABIC_NEVER_ZIPF for w in words)


def _found_end(W: _Words, spans, i: int, off: int) -> int | None:
    """The last word of the name found (in ``spans``) that starts at word i (``off`` letters in)."""
    k = bisect.bisect_left(spans, (W.ws[i] + off, -1))
    if k == len(spans) or spans[k][0] != W.ws[i] + off:
        return None
    return bisect.bisect_left(W.we, spans[k][1])


def _list_head(W: _Words, t: _Tables, j: int, spans) -> int | None:
    """The first word of a list's first item, which ends at word j: the words after a punctuation
    mark (a quote, a colon, a comma) or the sentence's start within :data:`ARABIC_ITEM_WORDS` words
    (:func:`_item_ok`); else the name found that ends at j and the words rare in Arabic just before
    it (قصف على الجفتلك الأتارب و...), or None."""
    for b in range(j, max(-1, j - ARABIC_ITEM_WORDS), -1):
        if b == 0 or W.sid[b - 1] != W.sid[b] or W.text[W.we[b - 1]:W.ws[b]].strip():
            if _item_ok(W, t, b, j, 0, spans):
                return b
            break
    k = bisect.bisect_left(spans, (W.we[j] + 1, -1)) - 1
    i = bisect.bisect_right(W.ws, spans[k][0]) - 1 if k >= 0 and spans[k][1] == W.we[j] else j
    if i == j and not _overlaps(spans, W.ws[j], W.we[j]) and not _item_ok(W, t, j, j, 0, []):
        return None
    while i > 0 and j - i + 1 < ARABIC_ITEM_WORDS and W.sid[i - 1] == W.sid[i] \
            and not W.text[W.we[i - 1]:W.ws[i]].strip() and not _overlaps(spans, W.ws[i - 1], W.we[i - 1]) \
            and not _conjunction(W.wt[i - 1], t):
        if _one_name(W, t, i - 1, i, 0):  # تل عاس
            return i - 1
        if not _item_ok(W, t, i - 1, i - 1, 0, []):
            break
        i -= 1
    return i


def _arabic_name_end(W: _Words, t: _Tables, i: int, off: int = 0, head: bool = False) -> int | None:
    """The last word of the Arabic name starting at word i (``off`` letters in: a clitic), None if
    word i cannot start one (a frequent Arabic word, unless it follows a ``head`` cue: جبل الزاوية;
    a word that begins with the conjunction: مدينة وثلاث قرى is "a city and three villages")."""
    w = W.wt[i][off:]
    if not _ARABIC_LETTER.match(w) or len(w) < 2 or _key(w) in t.never or _cue_word(w) \
            or (not off and _conjunction(w, t)):
        return None
    if _arabic_prefix(w, t) and i + 1 < W.n and W.sid[i + 1] == W.sid[i] and W.joined[i] \
            and _ARABIC_LETTER.match(W.wt[i + 1]) and _key(W.wt[i + 1]) not in t.never:
        return i + 1
    return i if _zipf_ar(w) < (ARABIC_NEVER_ZIPF if head else ARABIC_COMMON_ZIPF) else None


def _cue_word(w: str) -> bool:
    """An Arabic cue word that a name follows, maybe after a clitic (وبلدات, بريف); not one that
    begins a name (تل, جبل)."""
    cues = _arabic_cues()
    return any(not cues.get(_key(w[n:]), (None, True))[1] for n in (0, 1, 2) if n == 0 or _CLITIC.fullmatch(w[:n]))


def _arabic_item_mentions(W: _Words, items: list[_Item], found: list[tuple[int, int]]
                          ) -> set[tuple[int, int, str | None]]:
    """The spans of the framed names, with the kind their cue says: each item unless it overlaps a
    name the gazetteer or the bridge found (``found``, sorted) without being that name (الجفتلك
    الأتارب holds الأتارب: not one name) or one name around it (جبل الزاوية, تل عاس); an item of
    several words only when one of them is rare in Arabic (:data:`ARABIC_COMMON_ZIPF`) or a plural
    cue opens its list (قرى ... وطويل الحمام; not بلدة كفرنبل والدخول إليها "and entering it")."""
    out, exact = set(), set(found)
    for it in items:
        s, e = W.ws[it.i] + it.off, W.we[it.j]
        if _overlaps(found, s, e) and not it.whole and (s, e) not in exact:
            continue
        if it.j > it.i and not (it.whole or it.listed or _overlaps(found, s, e)
                                or any(_zipf_ar(w) < ARABIC_COMMON_ZIPF for w in [W.wt[it.i][it.off:], *W.wt[it.i + 1:it.j + 1]])):
            continue
        out.add((s, e, it.kind))
    return out


def _pattern_name_ok(name: str, explicit: bool, t: _Tables) -> bool:
    """Whether a name a pattern frames may be a place: not only common words (unless the frame
    is explicit, "the village of X"), no acronym, demonym or title, no person or organisation."""
    words = name.replace("-", " ").split()
    if not words or ((all(_common(w) for w in words) and not explicit) or any(_is_caps(w) for w in words)):
        return False
    if any((_key(w) in t.never and not (len(words) > 1 and _DIRECTION.match(w.lower()))) or _key(w) in t.title
           for w in words):
        return False
    return explicit or not (_key(name) in t.contextual or _key(words[0]) in t.contextual)


class Mention(NamedTuple):
    """One place mention: the text as written, its span in the report, its sentence, its
    normalised key and the kind of place the words around it ask for."""

    mention: str
    start: int
    end: int
    sentence: str
    key: str
    kind_hint: str | None


def find(text: str, index, *, offset: int = 0) -> list[Mention]:
    """Every place mention in ``text``, in text order (the rows of :func:`find_mentions`).

    ``index`` is a :class:`~geo_idlib.places.store.GazetteerIndex` (or anything with
    ``lookup_many``, ``keys`` and ``max_words``); its name automaton finds the gazetteer's names.
    """
    if not text:
        return []
    t = _tables()
    names = automaton.load(index)
    max_words = max(1, min(int(getattr(index, "max_words", 6) or 6), 8))
    W = _Words(text, names, max_words)
    hits = _gazetteer_hits(W, t, names, max_words)
    orgs = _organisations(W, t)
    if orgs:  # a place named in an organisation's name is not a place mention
        hits = {(i, j): k for (i, j), k in hits.items() if not _in_org(orgs, i, j)}
    found = names.candidates(hits.values()) if hits else {}
    hits = {ij: k for ij, k in hits.items() if k in found}
    matches = _gazetteer_matches(text, W, _Context(W, t, hits, found, names.generation), hits)
    org_spans = [(W.ws[i], W.we[j]) for i, j in orgs]
    framed: set[tuple[int, int, str | None]] = set()
    if W.arabic:
        matches, framed = _arabic_matches(W, t, index, matches, found, org_spans)
    matches = _with_pattern_mentions(text, W, t, matches, org_spans, framed)
    return _mention_rows(text, W, matches, offset)


def _arabic_matches(W: _Words, t: _Tables, index, matches: list, found: dict, orgs: list[tuple[int, int]]
                    ) -> tuple[list, set[tuple[int, int, str | None]]]:
    """The names of an Arabic block: the gazetteer's ``matches`` but the frequent words that name
    only places abroad (:func:`_region_words`), the names found through the skeleton bridge, first
    alone (:func:`_bridged`), then where cue words and lists frame names (:func:`_arabic_items`: a
    longer name found so replaces one found alone); and the framed names as pattern names
    (:func:`_arabic_item_mentions`)."""
    matches = _region_words(W, matches, found)
    home = _arabic_home(W, matches, found)
    taken = sorted([(s, e) for s, e, _ in matches] + list(orgs))
    alone = _bridged(W, t, index, home, taken)
    items = _arabic_items(W, t, sorted([(s, e) for s, e, _ in matches + alone]))
    framed = _bridged(W, t, index, home, taken, items)
    longer = sorted((s, e) for s, e, _ in framed)
    alone = [m for m in alone if not _overlaps(longer, m[0], m[1])]
    named = sorted([(s, e) for s, e, _ in matches] + longer)
    return matches + alone + framed, _arabic_item_mentions(W, items, named)


def _region_words(W: _Words, matches: list, found: dict) -> list:
    """``matches`` but the single Arabic words at least :data:`ARABIC_WORD_ZIPF` frequent that name
    no major place (:func:`_major`, a seat) nor any place in the block's country or its neighbours
    (the country of its other names, :func:`_arabic_home`): ورود "arrival" is not Warud in India."""
    def word(m) -> bool:
        w = W.text[m[0]:m[1]]
        if not _ARABIC_LETTER.match(w) or " " in w or _zipf_ar(w) < ARABIC_WORD_ZIPF:
            return False
        cands = found.get(_key(w), [])
        return not (_major(cands, _key(w)) or any(c.feature_code in ("PPLA", "PPLC") for c in cands))

    words = [m for m in matches if word(m)]
    home = _arabic_home(W, [m for m in matches if not word(m)], found) if words else None
    if home is None:
        return matches
    region = {home[0], *build.country_neighbours().get(home[0], ())}
    drop = {m for m in words if not any(c.country in region for c in found.get(_key(W.text[m[0]:m[1]]), []))}
    return [m for m in matches if m not in drop]


#: The most words of an Arabic name found through the skeleton bridge.
BRIDGE_MAX_WORDS = 3
#: The fewest consonants a name needs to be found through the bridge, unless a cue word or a list
#: frames it (:func:`_arabic_items`): on the Arabic dev set, names of three consonants (after doubled
#: ones are folded) found so were 7 right and 12 wrong (حرمة → Harim, جبالة → Jablah, a verb
#: يقابله → Rabiah), of four or more 13 right and 2 wrong (scripts/eval_arabic.py --show; a radius
#: of 40 km instead of 100 lost more right than wrong).
BRIDGE_MIN_CONSONANTS = 4
#: An Arabic word at least this frequent in Arabic (wordfreq Zipf scale: once per million words) is
#: that word before it is a small place: alone, it is a place through the bridge only where a cue
#: word or a list frames it (مصابين "wounded" is not Musaybeen, مشارف "outskirts" not Al-Mushayrifah,
#: المحروقة "burnt" not Mahruqah), and through the gazetteer only in the report's region (ورود
#: "arrival" is not Warud in India, جويا "by air" not Goya in Argentina). On the Arabic dev set the
#: villages found through the bridge are all rarer than 2.9, these words from 3.2 up.
ARABIC_WORD_ZIPF = 3.0


def _arabic_home(W: _Words, matches: list, found: dict):
    """The block's country (:func:`~geo_idlib.places.rank.infer_country` of the names found) and
    where its places are (:func:`~geo_idlib.places.rank.anchors`), or None."""
    from .rank import anchors, infer_country

    cands = [found.get(_key(W.text[s:e]), []) for s, e, _ in matches]
    home = infer_country(cands)
    return None if home is None else (home, anchors(cands, home))


def _bridged(W: _Words, t: _Tables, index, home, taken: list[tuple[int, int]], items: list[_Item] | None = None
             ) -> list[tuple[int, int, str | None]]:
    """Arabic names the gazetteer has only in Latin letters, found through the skeleton bridge
    (:func:`~geo_idlib.places.normalize.consonant_key` of the Arabic read in Latin letters, the
    ``consonant`` step of :func:`~geo_idlib.places.rank.lookup`) in the block's country ``home``
    (:func:`_arabic_home`) within :data:`~geo_idlib.places.rank.CONSONANT_NEAR_KM` of its places
    (never abroad: without a country there is no bridge), outside the spans ``taken``. Longest run
    first, left to right.

    Without ``items``: runs of up to :data:`BRIDGE_MAX_WORDS` Arabic words anywhere, that
    :func:`_bridge_run_ok` allows, of :data:`BRIDGE_MIN_CONSONANTS` or more; a clitic written onto
    the name is left out of the span (ومسعدة → مسعدة). With ``items`` (the names cue words and lists
    frame, :func:`_arabic_items`): runs from each item's first word within the item, of any length
    the look-up takes (الحامدية، معراتة)."""
    from .rank import lookup

    if home is None:
        return []
    text, framed = W.text, items is not None
    if framed:
        starts = sorted({(it.i, it.j, (it.off,)) for it in items})
    else:
        starts = [(i, min(W.n, i + BRIDGE_MAX_WORDS) - 1, _bridge_cuts(W.wt[i], t)) for i in range(W.n)]
    runs: dict[tuple[int, int], list[tuple[int, str]]] = {}  # (i, j) → [(clitic length, key)]
    for i, last, cuts in starts:
        for j in range(i, last + 1):
            if j > i and not (W.joined[j - 1] and W.sid[j] == W.sid[i]):
                break
            opts = [(n, _key(text[W.ws[i] + n:W.we[j]])) for n in cuts
                    if not _overlaps(taken, W.ws[i] + n, W.we[j]) and _bridge_run_ok(W, t, i, j, n, framed)]
            if opts:
                runs[(i, j)] = opts
    if not runs:
        return []
    got = lookup(index, {k for opts in runs.values() for _, k in opts}, fuzzy=False, country=home[0], near=home[1])
    least = 0 if framed else BRIDGE_MIN_CONSONANTS
    out, after = [], -1
    for i, last, _ in starts:
        if i <= after:
            continue
        for j in range(last, i - 1, -1):
            n = next((n for n, k in runs.get((i, j), ()) if k in got and len(consonant_key(k)) >= least), None)
            if n is not None:
                out.append((W.ws[i] + n, W.we[j], kind_hint_at(text, W.ws[i] + n, W.we[j])))
                after = j
                break
    return out


def _bridge_cuts(w: str, t: _Tables) -> tuple[int, ...]:
    """The clitics a name found through the bridge may carry (و, ب, وب, ...: their lengths), then
    none; a word that begins names keeps its letters (كفرعين is no ك + فرعين)."""
    cuts = [n for n in (1, 2) if len(w) - n >= 3 and _CLITIC.fullmatch(w[:n])
            and not any(w.startswith(p) for p in t.arabic_prefix)]
    return (*cuts, 0)


#: Pronouns written onto the end of an Arabic word (her, their, your): خاضتها is خاضت "she fought" + ها.
_PRONOUN_SUFFIX = re.compile(r"(?:ها|هما|هم|هن|كم)$")


def _readings(w: str, t: _Tables) -> list[str]:
    """The words an Arabic word may be: itself, without the clitics it may carry
    (:func:`_bridge_cuts`), without a pronoun at its end."""
    out = [w[n:] for n in _bridge_cuts(w, t)]
    stem = _PRONOUN_SUFFIX.sub("", w)
    return out + [stem] if 2 < len(stem) < len(w) else out


def _bridge_run_ok(W: _Words, t: _Tables, i: int, j: int, off: int, framed: bool) -> bool:
    """Whether words i..j (``off`` letters of clitic left out) may be a name only the bridge knows:
    Arabic words of two letters or more, no demonym, weekday or month, no function word
    (:data:`ARABIC_NEVER_ZIPF`); one word rare in Arabic (:data:`ARABIC_COMMON_ZIPF` where a cue or
    a list frames it, else :data:`ARABIC_WORD_ZIPF`), or several words, opened by a rare word or a
    word that begins names (تل, كفر, الشيخ: toponym_cues.csv ``arabic_prefix``; قبتان الجبل, زور أبو
    زيد) unless framed (الدير الشرقي)."""
    words = [W.wt[i][off:], *W.wt[i + 1:j + 1]]
    if not all(_ARABIC_LETTER.match(w) and len(w) > 1 and _key(w) not in t.never and _zipf_ar(w) < ARABIC_NEVER_ZIPF
               for w in words):
        return False
    if framed:
        return len(words) > 1 or _zipf_ar(words[0]) < ARABIC_COMMON_ZIPF
    if len(words) == 1:  # rare as written, without a clitic (ومسرحية: مسرحية is "a play") or a pronoun
        return all(_zipf_ar(r) < ARABIC_WORD_ZIPF for r in _readings(W.wt[i], t))
    return _arabic_prefix(words[0], t) or _zipf_ar(words[0]) < ARABIC_COMMON_ZIPF


def _arabic_prefix(word: str, t: _Tables) -> bool:
    """Whether an Arabic word (maybe after a clitic: والشيخ) is one that begins place names."""
    return any(_key(word[n:]) in t.arabic_prefix for n in (0, 1, 2) if n == 0 or _CLITIC.fullmatch(word[:n]))


def _overlaps(spans: list[tuple[int, int]], s: int, e: int) -> bool:
    """Whether ``(s, e)`` overlaps one of the sorted, non-overlapping ``spans``."""
    k = bisect.bisect_left(spans, (e, -1)) - 1
    return k >= 0 and spans[k][1] > s


def _organisations(W: _Words, t: _Tables) -> list[tuple[int, int]]:
    """The word ranges (i, j) of organisation names (``data/organisations.csv``: "Hayat Tahrir
    al-Sham", "Aleppo Media Center", "Syria Civil Defence"), longest first, left to right; a name
    right after a strict locative cue ("in", "near") is left out (a place after all)."""
    first = _org_openers().among(set(itertools.compress(W.low, W.cap)))  # capitalised words that may open one
    if not first:
        return []
    out: list[tuple[int, int]] = []
    for i in W.positions(first):
        if out and i <= out[-1][1]:
            continue
        best = -1
        # an Arabic name may carry a clitic (لهيئة تحرير الشام, وتلفزيون سوريا)
        cut = 1 if W.arabic and W.wt[i][:1] in "وفبلك" and (_key(W.wt[i][1:]),) in t.org_prefixes else 0
        if W.cap[i] and ((_key(W.wt[i]),) in t.org_prefixes or cut):
            j = i
            while j + 1 < W.n and j - i < 8 and W.sid[j + 1] == W.sid[i] and _ORG_GAP.fullmatch(W.text, W.we[j], W.ws[j + 1]):
                j += 1
                words = _name_words(W.text[W.ws[i] + cut:W.we[j]])
                if words in t.orgs:
                    best = j
                elif words not in t.org_prefixes:
                    break
        if best >= 0 and not (i > 0 and W.sid[i - 1] == W.sid[i] and W.low[i - 1] in _STRICT_LOCATIVE):
            out.append((i, best))
    return out


class _WordSet:
    """The words that pass ``test``, learnt word by word over a process: a block's distinct words
    are split into those seen before and new ones by set operations (in C), and only new ones are
    tested (at most ``limit`` words are kept)."""

    def __init__(self, test, limit: int = 1 << 18):
        self.test, self.limit = test, limit
        self.seen: set[str] = set()
        self.passed: set[str] = set()

    def among(self, words: set[str]) -> frozenset:
        """The words of ``words`` that pass the test."""
        new = words - self.seen
        if new:
            if len(self.seen) + len(new) > self.limit:
                self.seen, self.passed = set(), set()
            self.passed.update(filter(self.test, new))
            self.seen.update(new)
        return frozenset(words & self.passed)


@lru_cache(maxsize=1)
def _org_openers() -> _WordSet:
    """Words (in lower case) whose key opens an organisation's name."""
    prefixes = _tables().org_prefixes
    return _WordSet(lambda w: (_key(w),) in prefixes)


_ORG_GAP = re.compile(rf"(?:[{_APOS}][sS])?[ \u00a0\-‐‑]{{1,3}}[{_APOS}]?")  # "People's Protection Units"


def _in_org(orgs: list[tuple[int, int]], i: int, j: int) -> bool:
    """Whether words i..j overlap one of the organisation names ``orgs`` (sorted word ranges)."""
    k = bisect.bisect_right(orgs, (j, 1 << 62)) - 1
    return k >= 0 and orgs[k][1] >= i


def find_mentions(text: str, index, *, report: str = "", offset: int = 0) -> pd.DataFrame:
    """Find every place mention in ``text``.

    Parameters
    ----------
    text : str
        The report text (or one block of it).
    index : GazetteerIndex
        The gazetteer (see :func:`find`).
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
    return mentions_frame(find(text, index, offset=offset), report)


def mentions_frame(rows: list[Mention], report: str = "") -> pd.DataFrame:
    """The mentions table (:data:`COLUMNS`) of :func:`find`'s rows."""
    import pandas as pd

    cols = list(zip(*rows, strict=True)) if rows else [()] * 6
    return pd.DataFrame({
        "report": pd.Series([report] * len(rows), dtype=object),
        "mention": pd.Series(cols[0], dtype=object),
        "start": pd.Series(cols[1], dtype="int64"),
        "end": pd.Series(cols[2], dtype="int64"),
        "sentence": pd.Series(cols[3], dtype=object),
        "key": pd.Series(cols[4], dtype=object),
        "kind_hint": pd.Series(cols[5], dtype=object),  # None, not NaN
    }, columns=COLUMNS)


def _gazetteer_matches(text: str, W: _Words, C: _Context, hits: dict) -> list[tuple[int, int, str | None]]:
    """``(char start, char end, kind_hint)`` of the gazetteer hits the context rules accept: the
    longest accepted hit at each word, left to right."""
    longest: dict[int, list[int]] = {}
    for i, j in hits:
        longest.setdefault(i, []).append(j)
    matches: list[tuple[int, int, str | None]] = []
    i = 0
    for i0 in sorted(longest):
        if i0 < i:
            continue
        for j in sorted(longest[i0], reverse=True):
            key = hits[(i0, j)]
            if _accept(C, i0, j, key):
                matches.append((W.ws[i0], W.we[j], kind_hint_at(text, W.ws[i0], W.we[j])))
                i = j + 1
                break
    return matches


def _with_pattern_mentions(text: str, W: _Words, t: _Tables, matches: list, orgs: list[tuple[int, int]] = (),
                           framed=()) -> list[tuple[int, int, str | None]]:
    """``matches`` plus the pattern names the gazetteer missed (none inside an organisation's name,
    ``orgs``: character ranges; ``framed``: Arabic names cue words and lists frame); a longer
    pattern name replaces the matches inside it. Sorted by position.

    ``matches`` never overlap each other (nor after each step), so the ones a pattern name overlaps
    are one slice of the sorted list, found by bisection: the work is linear in the matches.
    """
    matches = sorted(matches)
    starts = [m[0] for m in matches]
    ends = [m[1] for m in matches]
    skipped = [W.sents[k] for k, s in enumerate(W.sent_skip) if s]
    skip_starts = [a for a, _ in skipped]
    org_starts = [a for a, _ in orgs]
    for s, e, hint in _pattern_mentions(W, t, framed):
        k = bisect.bisect_right(skip_starts, s) - 1
        if k >= 0 and s < skipped[k][1]:
            continue  # in a photo credit line
        k = bisect.bisect_left(org_starts, e) - 1
        if k >= 0 and s < orgs[k][1]:
            continue  # in an organisation's name
        lo, hi = bisect.bisect_right(ends, s), bisect.bisect_left(starts, e)
        inside = matches[lo:hi]
        if not inside:
            new = [(s, e, hint or kind_hint_at(text, s, e))]
        elif all(s <= a and b <= e for a, b, _ in inside) and (len(inside) > 1 or inside[0][:2] != (s, e)) \
                and not any(text[a[1]:b[0]] in "-‐‑" for a, b in zip(inside, inside[1:], strict=False)):  # "Aleppo-Damascus" stays two
            # a longer name around known ones ("Eastern Ghouta", "Sarmin Jadida"), unless it only
            # adds a feature word ("Idlib Governorate" stays "Idlib" with an admin1 hint)
            tail = text[inside[-1][1]:e].strip().lower()
            if not (len(inside) > 1 or not tail or tail.split()[0] not in t.feature):
                continue
            new = [(s, e, hint or inside[0][2] or kind_hint_at(text, s, e))]
        elif hint and not inside[0][2] and len(inside) == 1 and inside[0][:2] == (s, e):
            new = [(s, e, hint)]  # the kind the frame says (قرية X: a settlement)
        else:
            continue
        matches[lo:hi], starts[lo:hi], ends[lo:hi] = new, [s], [e]
    return matches


def _mention_rows(text: str, W: _Words, matches: list, offset: int) -> list[Mention]:
    """The :class:`Mention` rows of ``matches``."""
    sent_starts = [s for s, _ in W.sents]
    out = []
    for s, e, hint in matches:
        k = max(0, bisect.bisect_right(sent_starts, s) - 1)
        ss, se = W.sents[k] if W.sents else (0, len(text))
        surface = text[s:e]
        out.append(Mention(surface, s + offset, e + offset, text[ss:se].strip(), _key(surface), hint))
    return out


def iter_mentions(blocks: Iterable[tuple[int, str]], index, *, report: str = ""):
    """Yield :func:`find_mentions` tables for ``(offset, text)`` blocks (from ``io.iter_report_blocks``)."""
    for off, block in blocks:
        yield find_mentions(block, index, report=report, offset=off)

"""The name automaton: every normalised key of the gazetteer in a memory-mapped trie.

Mention finding asks, for each capitalised run of words in a text, which gazetteer keys start
there (:meth:`NameAutomaton.prefixes`: one walk of the trie per run, so matching is linear in the
text); the lookup order asks which keys share a name's space-insensitive form (``compact``) or its
consonant skeleton (:func:`~geo_idlib.places.normalize.consonant_key`). All three questions are
answered by one `marisa-trie <https://github.com/pytries/marisa-trie>`_ per key source:

- the plain keys;
- ``"\\x01" + compact(key) + "\\x1f" + key`` for keys with spaces;
- ``"\\x02" + consonant_key(key) + "\\x1f" + key``.

The built-in index's trie is built once per index version, beside the index in
:func:`geo_idlib.io.cache_dir` (its name carries the index's), under the index lock; the user
gazetteers' trie once per change of the user index (its name carries the file's size and time).
Opening maps the files read-only (a fraction of a millisecond, a few MB shared through the page
cache by every process: Dask workers, parallel runs). Why a trie and not an Aho-Corasick
automaton: pyahocorasick over the 675,000 keys takes 150 MB and 3.8 s to load its saved form
(+287 MB RSS), the trie 3 MB and 0.2 ms; a walk per run of words (at most
``index.max_words`` words) keeps the whole match linear in the text.

Candidates of the keys found come from the index (:meth:`GazetteerIndex.lookup_many`, one query
per text block for the keys not seen before) through a per-process cache
(:meth:`NameAutomaton.candidates`).
"""

from __future__ import annotations

import hashlib
import itertools
import logging
import threading
from collections import OrderedDict
from collections.abc import Iterable
from pathlib import Path

from .. import io
from . import normalize
from .build import Candidate
from .normalize import compact, consonant_key
from .store import GazetteerIndex, candidate_order, index_lock_path

log = logging.getLogger("geo_idlib")

#: Bump when the entries of the trie change (the file name carries it).
AUTOMATON_FORMAT = 2

#: Keys whose candidates (and texts whose keys, :meth:`NameAutomaton.prefixes`) stay in memory per
#: process (names repeat across reports).
CACHE_KEYS = 50_000

_COMPACT, _CONSONANT, _SEP = "\x01", "\x02", "\x1f"


def _entries(keys: Iterable[str]) -> Iterable[str]:
    for k in keys:
        yield k
        if " " in k:
            yield f"{_COMPACT}{compact(k)}{_SEP}{k}"
        c = consonant_key(k)
        if len(c) >= 2:
            yield f"{_CONSONANT}{c}{_SEP}{k}"


def build_trie(keys: Iterable[str], path: Path) -> Path:
    """Write the trie of ``keys`` (see the module docstring) to ``path`` atomically."""
    import marisa_trie

    return io.write_trie(path, marisa_trie.Trie(_entries(keys)))


def builtin_trie_path(index: GazetteerIndex) -> Path:
    """The built-in index's trie: beside the index, named after it."""
    return index.path.with_name(f"{index.path.stem}.a{AUTOMATON_FORMAT}.marisa")


def user_trie_path(index: GazetteerIndex) -> Path | None:
    """The trie of the user gazetteers a run uses, in the cache dir, named after the user index's
    size and time and a digest of those gazetteers' names (``--gazetteer``); None when it uses none."""
    if index.user_path is None or not index.gazetteers:
        return None
    st = index.user_path.stat()
    scope = hashlib.sha1("\n".join(index.gazetteers).encode("utf-8")).hexdigest()[:12]
    return io.cache_dir() / f"user-{st.st_size}-{st.st_mtime_ns}-{scope}.a{AUTOMATON_FORMAT}.marisa"


def _ensure(path: Path, keys, what: str) -> Path:
    """Build the trie at ``path`` from ``keys()`` unless it exists (one process builds it)."""
    if path.exists():
        return path
    with io.exclusive_lock(index_lock_path(), "another geo-idlib process is building the gazetteer "
                           "index; waiting for it to finish"):
        if not path.exists():
            log.info("building the name automaton of the %s into %s", what, path.parent)
            build_trie(keys(), path)
            for old in path.parent.glob(_stale_glob(path)):
                if _stale(old, path):
                    io.remove_file(old)
    return path


def _stale_glob(path: Path) -> str:
    return "user-*.marisa" if path.name.startswith("user-") else "gazetteer-*.marisa"


def _stale(old: Path, path: Path) -> bool:
    """Whether the trie ``old`` belongs to an older index than ``path`` (the tries of other scopes
    of the same user index stay: parallel runs may use them)."""
    if path.name.startswith("user-"):
        return old.name.split("-")[1:3] != path.name.split("-")[1:3]
    return old != path


class NameAutomaton:
    """The keys of one gazetteer index (built-in and user gazetteers), for matching and lookup.

    Obtain one with :func:`load`. ``key in automaton`` says whether any place has that key.

    Examples
    --------
    >>> from geo_idlib.places.store import load_index
    >>> from geo_idlib.places.normalize import normalize
    >>> a = load(load_index())
    >>> normalize("Saraqeb") in a, sorted(a.prefixes("marat al numan al jadida")), a.compact("kafrnabl")
    (True, ['marat', 'marat al numan'], ['kafr nabl'])
    >>> "idlib" in a.consonant(normalize("Edlib")), "idlib" in a.consonant("idlib")  # the other keys
    (True, False)
    """

    def __init__(self, index, tries: list):
        self.index = index
        self._tries = tries
        self.generation = next(_GENERATIONS)  # tells caches of answers one index from another
        self._fuzzy: dict[tuple, list] = {}
        self._known: dict[str, bool] = {}
        self._prefixes: dict[str, frozenset[str]] = {}
        self._pairs: dict[str, tuple[list, list]] = {}
        self._cache: OrderedDict[str, list[Candidate]] = OrderedDict()
        self._lock = threading.Lock()

    def __contains__(self, key: str) -> bool:
        got = self._known.get(key)
        if got is None:
            if len(self._known) >= CACHE_KEYS:
                self._known.clear()
            got = self._known[key] = any(key in t for t in self._tries)
        return got

    def prefixes(self, text: str) -> frozenset[str]:
        """The keys that ``text`` (normalised words joined by spaces) starts with, ending at a word
        end (kept per process for :data:`CACHE_KEYS` texts: names recur across reports)."""
        got = self._prefixes.get(text)
        if got is None:
            if len(self._prefixes) >= CACHE_KEYS:
                self._prefixes.clear()
            n = len(text)
            got = self._prefixes[text] = frozenset(k for t in self._tries for k in t.prefixes(text)
                                                   if len(k) == n or text[len(k)] == " ")
        return got

    def _section(self, mark: str, value: str) -> list[str]:
        prefix = f"{mark}{value}{_SEP}"
        return sorted({k[len(prefix):] for t in self._tries for k in t.keys(prefix)})

    def compact(self, key: str) -> list[str]:
        """The other keys with the space-insensitive form of ``key`` ("kafrnabl" → "kafr nabl", "tal
        abyad" → "talabyad")."""
        ck = compact(key)
        found = self._section(_COMPACT, ck)
        if ck != key and ck in self:
            found = sorted({*found, ck})
        return [k for k in found if k != key]

    def consonant(self, key: str) -> list[str]:
        """The other keys with the consonant skeleton of ``key`` (``[]`` when it has fewer than
        :data:`~geo_idlib.places.normalize.CONSONANT_MIN` letters)."""
        c = consonant_key(key)
        return [k for k in self._section(_CONSONANT, c) if k != key] if len(c) >= normalize.CONSONANT_MIN else []

    def candidates(self, keys: Iterable[str]) -> dict[str, list[Candidate]]:
        """The candidates of each key (as :meth:`GazetteerIndex.lookup_many`: keys without one are
        absent), from a per-process cache of :data:`CACHE_KEYS` keys; one index query for the keys
        not in it."""
        cache = self._cache
        keys = [k for k in dict.fromkeys(keys) if k]
        with self._lock:
            missing = [k for k in keys if k not in cache]
            if missing:
                found = self.index.lookup_many(missing)
                for k in missing:
                    cache[k] = found.get(k, [])
                while len(cache) > CACHE_KEYS:
                    cache.popitem(last=False)
            got = {k: cache[k] for k in keys}
        return {k: v for k, v in got.items() if v}


    def pairs(self, keys: Iterable[str]) -> dict[str, list[tuple[Candidate, float]]]:
        """:meth:`candidates` as ``(candidate, 1.0)`` pairs (a key's own candidates match it fully),
        made once per candidate list (shared: not to be changed)."""
        out = {}
        for k, cands in self.candidates(keys).items():
            got = self._pairs.get(k)
            if got is None or got[0] is not cands:
                if len(self._pairs) >= CACHE_KEYS:
                    self._pairs.clear()
                got = self._pairs[k] = (cands, [(c, 1.0) for c in cands])
            out[k] = got[1]
        return out

    def fuzzy(self, key: str, country: str | None, limit: int = 10) -> list[tuple[Candidate, float]]:
        """The index's fuzzy matches of ``key`` (:meth:`GazetteerIndex.fuzzy`), kept per process."""
        ck = (key, country, limit)
        got = self._fuzzy.get(ck)
        if got is None:
            if len(self._fuzzy) > CACHE_KEYS:
                self._fuzzy.clear()
            got = self._fuzzy[ck] = self.index.fuzzy(key, limit=limit, country=country)
        return got

    def merged(self, keys: Iterable[str]) -> list[Candidate]:
        """The candidates of several keys as one list: each place once, in the index's order
        (:func:`~geo_idlib.places.store.candidate_order`)."""
        out: dict[str, Candidate] = {}
        for cands in self.candidates(keys).values():
            for c in cands:
                out.setdefault(c.place_id, c)
        return sorted(out.values(), key=candidate_order)


_LOADED: dict[int, NameAutomaton] = {}
_GENERATIONS = itertools.count(1)


def load(index) -> NameAutomaton:
    """The automaton of ``index`` (one per index object): the tries beside a
    :class:`~geo_idlib.places.store.GazetteerIndex` (built on first use, then mapped), or, for any
    other object with ``keys()`` and ``lookup_many`` (a test's small gazetteer), a trie in memory."""
    a = _LOADED.get(id(index))
    if a is None or a.index is not index:
        if isinstance(index, GazetteerIndex):
            paths = [_ensure(builtin_trie_path(index), lambda: index.keys("main"), "built-in gazetteer")]
            upath = user_trie_path(index)
            if upath is not None:  # the keys of the user gazetteers in the run's scope
                paths.append(_ensure(upath, lambda: index.keys("user"), "user gazetteers"))
            tries = [io.open_trie(p) for p in paths]
        else:
            import marisa_trie

            tries = [marisa_trie.Trie(_entries(sorted(set(index.keys()))))]
        if len(_LOADED) >= 8:
            _LOADED.clear()
        a = _LOADED[id(index)] = NameAutomaton(index, tries)
    return a


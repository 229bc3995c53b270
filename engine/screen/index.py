"""The name index: from a name to the few listed names worth comparing, and their scores.

Comparing a name with every listed name costs milliseconds at 100,000 entries.
The index instead works in small steps, all dictionary look-ups:

**1. Token expansion.** Every distinct token of the listed names (the
*vocabulary*) is filed under a few keys:

- the token and each string one letter shorter (*deletion keys*): two tokens
  within one edit share at least one of them, so ``petorv`` finds ``petrov``;
- its sound key and, for long ones, the sound key's deletion keys
  (``aleksey`` finds ``alexei``, ``aleksandr`` finds ``alexander``);
- its consonant skeleton (``mhmd``), which is how a name written in Arabic
  script, transliterated without vowels, finds ``mohammed``.

A query token looks up its own keys and gets the handful of vocabulary tokens
that may be the same, each then compared properly by
:func:`~engine.screen.names.compare_tokens`. Adjacent tokens are also tried
joined (``xiao ming`` -> ``xiaoming``), on both sides, so syllables written
apart or together meet.

**2. Pair blocking.** Each listed name is filed under every *pair* of its
tokens (``ivan sergeyevich petrov`` under ivan+sergeyevich, ivan+petrov,
sergeyevich+petrov). A query looks up the pairs of its expanded tokens, so a
candidate shares at least two name parts with the query, in any order, with a
middle name missing or added. Single tokens are not blocks: ``mohammed`` or
``smith`` alone would bring thousands. Names of one token are filed under it.

Each listed name is also filed under the *initial* of its first name with each
of its other parts (M + karimi), so a name screened with an initial for its
given name (``M. KARIMI``) meets ``MAHMOUD KARIMI``; a block of more than
:data:`INITIAL_BLOCK` names says too little and is not kept.

**3. Hot pairs.** Some pairs are common too (``mohammed`` + ``ahmed``). A pair
with more than :data:`HOT_PAIR` names is *hot*: the names under it that have
more parts are also filed under the hot pair plus each of their other parts
(a triple). A query of three or more parts looks up those triples instead of
the hot pair, plus the names that are exactly that pair; a query of two parts
still gets the whole pair.

**4. Counting.** A query of three or more parts counts in how many pair blocks
each name turns up: ``k`` shared parts are ``k(k-1)/2`` pairs, which bounds the
score, so a name sharing only two common parts with a four-part query (Mohammed
and Hassan) is dropped before it is looked at (see :func:`_shared_bound`).

**5. Bound, then score.** For each candidate, the parts it can possibly align
give an upper bound of its score in a few look-ups; only candidates whose bound
reaches the floor are scored in full (see :meth:`NameIndex.search`), and only the
names reported get their explanation written (:meth:`ScoredName.hit`).

Every listed token's own expansion (step 1) is found when the index is built:
most tokens screened are listed ones, so a fresh worker is nearly as fast as
one that has run a while.

An index is immutable once built: a new list version is a new index, built
beside the old one and swapped in by reference.
"""

from __future__ import annotations

import math
from array import array
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple, TypeAlias

from rapidfuzz.distance import OSA

from engine.screen.names import (
    MatchHow,
    NameKind,
    NormalName,
    compare_tokens,
    deletions,
    display_tokens,
    is_particle,
    is_syllable_chain,
    is_vowelless,
    normalise_name,
    skeleton,
    skeleton_of,
    sound_key,
    sound_key_of,
)

#: Tokens beyond this many are ignored (a name, not a paragraph).
MAX_TOKENS = 8
#: How much one unmatched listed token counts when the name screened is wholly
#: matched in order from the listed name's first part: one missing middle name
#: costs a little; a different given name, a second missing part, or a part of
#: the name screened that the listed name does not have, its full weight.
EXTRA_TOKEN_COST = 0.35
#: Weight of a particle (``al``, ``bin``, ``van``) and of an initial, against 1 for a name part.
PARTICLE_WEIGHT = 0.25
INITIAL_WEIGHT = 0.5
INITIAL_SIMILARITY = 0.7
#: A part of the name screened that begins a longer listed part, cut short as a
#: passport's name field cuts long names (VLADIMIRO for VLADIMIROVNA), counts this
#: much when it holds at least TRUNCATED_SHARE of the listed part and four letters.
TRUNCATED_SIMILARITY = 0.86
TRUNCATED_SHARE = 0.6
#: The most names one initial and one other part may block together (see NameIndex).
INITIAL_BLOCK = 64
#: A weak alias (FtM ``weakAlias``, a nickname) scores at most this share of a full match.
WEAK_ALIAS_FACTOR = 0.8
#: A joined piece (two name parts written as one) must match at least this well.
JOINED_SIMILARITY = 0.86
#: A pair of tokens shared by more names than this is hot (see the module docstring).
HOT_PAIR = 8
#: The best name score of a two-part name against a listed name of four parts or
#: more: (2 + 2 + particles) / (that + one middle name at EXTRA_TOKEN_COST + one at 1).
SHORT_QUERY_BOUND = 0.77
_SOUND = "\x01"
_SKELETON = "\x02"
_EXPANSION_CACHE = 200_000
_TRIPLE = 1 << 24  # vocabulary ids stay below this


class TokenHit(NamedTuple):
    """How one query token matched one listed token. ``vowel`` is True when the two
    differ in their vowels (or by sound) only: in names made of open syllables
    (Pinyin, Yoruba) that is another name, see :meth:`NameIndex.search`."""

    similarity: float
    how: MatchHow
    vowel: bool = False


#: The expansion of a piece that meets no listed token, shared (never changed).
_NOTHING: dict[int, TokenHit] = {}


class PartMatch(NamedTuple):
    """One aligned part of a name match, for the explanation."""

    listed: str  # the listed token(s), upper case
    how: str
    similarity: float


@dataclass(frozen=True, slots=True)
class NameHit:
    """A listed name that matched a query name, with its name score in [0, 1]."""

    owner: int
    name: str
    score: float
    parts: tuple[PartMatch, ...]
    unmatched_listed: tuple[str, ...]
    unmatched_query: int
    weak: bool

    def explain(self) -> str:
        """The match in words, naming only the listed name's own parts."""
        bits = [
            f"{p.listed} {p.how}" + ("" if p.how == "exact" else f" {p.similarity:.2f}") for p in self.parts
        ]
        bits += [f"{t} not in the name screened" for t in self.unmatched_listed]
        if self.unmatched_query:
            bits.append(f"{self.unmatched_query} part(s) of the name screened not listed")
        kind = "weak alias" if self.weak else "name"
        return f"{kind} {self.name.upper()!r} {self.score:.2f}: " + "; ".join(bits)


class _Record(NamedTuple):
    owner: int
    text: str
    tokens: tuple[str, ...]
    pieces: tuple[tuple[int, int], ...]  # (vocabulary id, mask of the tokens it covers)
    base: tuple[tuple[int, int], ...]  # the pieces that are single tokens
    weights: tuple[float, ...]
    total: float
    first: int  # mask of the first name part
    weak: bool
    other_script: bool
    syllabic: bool
    has_initials: bool
    uniform: bool  # every token weighs 1
    syllables: bool  # every token is a chain of open syllables (Pinyin, Yoruba)


class _Query(NamedTuple):
    tokens: tuple[str, ...]
    weights: tuple[float, ...]
    total: float
    first: int
    pieces: list[tuple[dict[int, TokenHit], int, str]]
    # vocabulary id -> (similarity, query mask, how, vowel) of the query pieces it may be
    by_vid: dict[int, list[tuple[float, int, MatchHow, bool]]]
    joined: bool  # some query piece may be a listed piece of two or three tokens
    other_script: bool
    syllabic: bool
    has_initials: bool
    uniform: bool
    syllables: bool
    blockable: list[tuple[list[int], int]]  # expansions of the pieces that may be block keys, with masks
    many: bool  # three or more single parts may be block keys
    overlap: bool  # two single parts may be the same listed token
    cut: tuple[tuple[int, str], ...]  # parts of 4+ letters no listed name has: cut short?


class ScoredName(NamedTuple):
    """A listed name's score for a query, with what it takes to explain it:
    :meth:`hit` makes the :class:`NameHit`, only for the few names reported."""

    owner: int
    score: float
    record: _Record
    query: _Query
    chosen: list[tuple[float, int, int, str]]
    used_q: int
    used_e: int

    def hit(self) -> NameHit:
        """The match with its explanation."""
        return NameIndex._hit(self.record, self.query, self.score, self.chosen, self.used_q, self.used_e)

    def extends_query(self) -> bool:
        """True when the listed name is the name screened with more parts: every part
        screened is in it as written, token for token, and it has parts the name
        screened lacks (a middle name the traveller's record leaves out)."""
        whole = (1 << len(self.query.tokens)) - 1
        return self.used_q == whole and self.used_e != (1 << len(self.record.tokens)) - 1 and all(
            how == "exact" and not q & (q - 1) and not e & (e - 1) for _, q, e, how in self.chosen
        )


def _weight(token: str) -> float:
    if len(token) == 1:
        return INITIAL_WEIGHT
    return PARTICLE_WEIGHT if is_particle(token) else 1.0


def _lenient(rest: float) -> float:
    """The cost of unmatched weight ``rest`` when one name is matched in full: the first
    missing part (a middle name) costs ``EXTRA_TOKEN_COST``, any more their full weight."""
    return min(rest, 1.0) * EXTRA_TOKEN_COST + max(0.0, rest - 1.0)


def _first(tokens: Sequence[str]) -> int:
    """The mask of the first token that is neither a particle nor an initial."""
    for i, t in enumerate(tokens):
        if len(t) > 1 and not is_particle(t):
            return 1 << i
    return 0


def _in_order(chosen: Sequence[tuple[float, int, int, str]], by_query: bool) -> bool:
    """True when the aligned tokens of one name come in the same order as in the other."""
    if by_query:
        order = sorted((q & -q, e & -e) for _, q, e, _ in chosen)
    else:
        order = sorted((e & -e, q & -q) for _, q, e, _ in chosen)
    return all(order[i][1] < order[i + 1][1] for i in range(len(order) - 1))


def _pieces(tokens: Sequence[str]) -> list[tuple[str, int]]:
    """The tokens, and adjacent tokens joined (with a particle between them, three).
    A letter alone joins the part after it: ``O SULLIVAN`` is ``O'SULLIVAN``."""
    out = [(t, 1 << i) for i, t in enumerate(tokens)]
    for i in range(len(tokens) - 1):
        a, b = tokens[i], tokens[i + 1]
        if len(b) > 1 and not is_particle(b):  # a particle leans on what follows it
            out.append((a + b, 3 << i))
        if i + 2 < len(tokens) and is_particle(b) and len(tokens[i + 2]) > 1:
            out.append((a + b + tokens[i + 2], 7 << i))
    return out


def _mask_weight(mask: int, weights: Sequence[float]) -> float:
    total = 0.0
    i = 0
    while mask:
        if mask & 1:
            total += weights[i]
        mask >>= 1
        i += 1
    return total


def other_name(query: str, listed: str) -> bool:
    """True when a query token that is itself a listed name is more likely another
    name than a spelling of ``listed``: a typo rarely makes a real name, so when the
    query token is on the list in its own right, only a difference of sound
    (Hussein / Hussain, Aleksey / Alexei, Aleksandr / Alexander) is a spelling;
    one letter (Juan / Juana, Chen / Cheng, Ganglei / Gangfei) makes another name,
    and so does a feminine ending (Ivanov / Ivanova).

    >>> other_name("juan", "juana"), other_name("hussein", "hussain"), other_name("ivanova", "ivanov")
    (True, False, True)
    """
    short, long_ = (query, listed) if len(query) <= len(listed) else (listed, query)
    if long_ == short + "a":
        return True
    if skeleton(query) == skeleton(listed):
        return False
    kq, kl = sound_key(query), sound_key(listed)
    if kq == kl:
        return False
    return min(len(kq), len(kl)) < 5 or OSA.distance(kq, kl, score_cutoff=1) > 1


def _vowel_only(query: str, listed: str, how: MatchHow) -> bool:
    """True when two tokens differ only by sound or in their vowels."""
    return how == "phonetic"


def _shared_bound(pairs: int, rest: float, total: float, listed: float) -> float:
    """The best score of a listed name (of weight ``listed``) met only through
    ``pairs`` blocks of two single parts of a query (of weight ``total``, of which
    ``rest`` in particles and initials).

    Such a name aligns token to token, and ``k`` shared parts are ``k(k-1)/2``
    pairs. With ``m`` of the query's weight aligned (the shared parts and, at
    best, all the rest) the listed name aligns at most as much, and the query's
    unaligned parts cost their full weight. A query of four parts needs three
    of them to reach 0.84, so a name sharing two common ones (Mohammed and
    Hassan) is not even looked at.
    """
    k = (1 + math.isqrt(1 + 8 * pairs)) // 2
    mq = min(k + rest, total)
    me = min(listed, mq)
    cost = _lenient(listed - me) if mq >= total - 1e-9 else listed - me
    return (mq + me) / (me + total + cost)


def _pairs_needed(rest: float, total: float, floor: float) -> int:
    """The fewest pair blocks a name must turn up in to possibly score ``floor``:
    :func:`_shared_bound` is highest for a listed name as heavy as the part aligned."""
    k = 2
    while k < MAX_TOKENS and _shared_bound(k * (k - 1) // 2, rest, total, min(k + rest, total)) < floor:
        k += 1
    return k * (k - 1) // 2


def _blockable(piece: str, mask: int) -> bool:
    """Whether a piece may be part of a block key: not a particle or an initial alone."""
    return mask & (mask - 1) != 0 or (len(piece) > 1 and not is_particle(piece))


#: Record numbers, packed.
Ids: TypeAlias = "array[int]"


def _ids(values: Iterable[int]) -> Ids:
    return array("I", values)


def _initial_key(letter: int, vid: int) -> int:
    return (letter << 32) | vid


def _pair_key(a: int, b: int) -> int:
    return (a << 32) | b if a < b else (b << 32) | a


class NameIndex:
    """Listed names of one kind (people, organisations or vessels), indexed for search.

    Built from ``(owner, name, weak)`` triples: ``owner`` is the caller's number
    for the entity the name belongs to, ``weak`` marks a weak alias.
    """

    def __init__(self, names: Iterable[tuple[int, str, bool]], kind: NameKind) -> None:
        self.kind: NameKind = kind
        self._vocab: dict[str, int] = {}
        self._tokens: list[str] = []
        self._joined: set[int] = set()  # vocabulary ids of joined pieces (not also a name part)
        self._multi: set[int] = set()  # vocabulary ids some listed name has as two or three tokens
        keys: dict[str, list[int]] = {}
        records: list[_Record] = []
        blocks_of: list[list[tuple[int, int]]] = []  # per record: its blockable pieces
        pairs: dict[int, list[int]] = {}
        singles: dict[int, list[int]] = {}
        initials: dict[int, list[int]] = {}
        for owner, text, weak in names:
            normal = normalise_name(text, kind)
            tokens = normal.tokens[:MAX_TOKENS]
            if not tokens:
                continue
            rid = len(records)
            texts = _pieces(tokens)
            pieces = [(self._add(p, mask & (mask - 1) == 0, keys), mask) for p, mask in texts]
            self._multi.update(v for v, m in pieces if m & (m - 1))
            weights = tuple(_weight(t) for t in tokens)
            singles_of = tuple((v, m) for v, m in pieces if not m & (m - 1))
            records.append(_Record(
                owner, text, tokens, tuple(pieces), singles_of, weights, sum(weights), _first(tokens), weak,
                normal.script == "other", normal.syllabic, any(len(t) == 1 for t in tokens),
                all(w == 1.0 for w in weights), all(is_syllable_chain(t) for t in tokens),
            ))
            blockable = [pm for pm, (p, m) in zip(pieces, texts, strict=True) if _blockable(p, m)]
            blocks_of.append(blockable)
            if len({v for v, m in blockable if m & (m - 1) == 0}) <= 1:  # one part (or "Dong Dong")
                for vid, _ in blockable:
                    singles.setdefault(vid, []).append(rid)
            for i, (va, ma) in enumerate(blockable):
                for vb, mb in blockable[i + 1 :]:
                    if ma & mb or va == vb:
                        continue
                    block = pairs.setdefault(_pair_key(va, vb), [])
                    if not block or block[-1] != rid:
                        block.append(rid)
            first = records[-1].first
            if first:  # also filed under its first name's initial with each other part
                letter = ord(tokens[first.bit_length() - 1][0])
                for vb, mb in blockable:
                    if not mb & first and not mb & (mb - 1):
                        block = initials.setdefault(_initial_key(letter, vb), [])
                        if not block or block[-1] != rid:
                            block.append(rid)
        hot = {k for k, v in pairs.items() if len(v) > HOT_PAIR}
        parts = [sum(1 for _, m in b if m & (m - 1) == 0) for b in blocks_of]
        exact: dict[int, list[int]] = {}
        triples: dict[int, list[int]] = {}
        for rid, blockable in enumerate(blocks_of):
            base = [(v, m) for v, m in blockable if m & (m - 1) == 0]
            if len(base) == 2 and (key := _pair_key(base[0][0], base[1][0])) in hot:
                exact.setdefault(key, []).append(rid)
            for i, (va, ma) in enumerate(blockable):
                for vb, mb in blockable[i + 1 :]:
                    if ma & mb or va == vb or (key := _pair_key(va, vb)) not in hot:
                        continue
                    for vc, mc in blockable:
                        if not mc & (ma | mb):
                            block = triples.setdefault(key * _TRIPLE + vc, [])
                            if not block or block[-1] != rid:
                                block.append(rid)
        self._records: tuple[_Record, ...] = tuple(records)
        # One look-up per pair: its names, or () for a hot pair (see _hot_blocks).
        # Record numbers are kept in flat arrays: a tuple's would be one object each,
        # scattered over memory, and a query would wait on each of them.
        self._pairs: dict[int, Ids] = {k: _ids(() if k in hot else v) for k, v in pairs.items()}
        self._hot = {k: _ids(pairs[k]) for k in hot}
        self._hot_short = {k: _ids(r for r in pairs[k] if parts[r] <= 3) for k in hot}
        self._exact = {k: _ids(v) for k, v in exact.items()}
        self._triples = {k: _ids(v) for k, v in triples.items()}
        self._singles = {k: _ids(v) for k, v in singles.items()}
        self._single_vids = frozenset(self._singles)
        # Names by the initial of their first name and another part: M. KARIMI meets
        # MAHMOUD KARIMI. A block of more than INITIAL_BLOCK names says too little.
        self._initials = {k: _ids(v) for k, v in initials.items() if len(v) <= INITIAL_BLOCK}
        self._keys: dict[str, tuple[int, ...]] = {k: tuple(v) for k, v in keys.items()}
        # Two query tokens written apart meet a listed token written as one by
        # spelling or sound, or by consonants: there only whole name parts, as the
        # consonants of common pairs joined bring hundreds of spellings of them.
        solo: dict[str, list[int]] = {}
        for vid, token in enumerate(self._tokens):
            if vid not in self._joined:
                solo.setdefault(_SKELETON + skeleton(token), []).append(vid)
        self._solo: dict[str, tuple[int, ...]] = {k: tuple(v) for k, v in solo.items()}
        self._cache: dict[str, dict[int, TokenHit]] = {}
        # Every listed token's own expansion is found once, here: most tokens
        # screened are listed ones, and a cold worker then runs as fast as a warm one.
        self._listed: dict[str, dict[int, TokenHit]] = {
            token: self._expansion(token) for vid, token in enumerate(self._tokens) if vid not in self._joined
        }

    # -- building --

    def _add(self, token: str, base: bool, keys: dict[str, list[int]]) -> int:
        """The vocabulary id of a token, filing a new one under its keys. Joined
        pieces get fewer keys than base tokens: they only need to meet a whole
        token written together, not every typo of it."""
        vid = self._vocab.get(token)
        if vid is not None:
            if base and vid in self._joined:  # a name part that other names write in two
                self._joined.discard(vid)
                self._file(token, vid, base, keys)
            return vid
        vid = len(self._tokens)
        self._vocab[token] = vid
        self._tokens.append(token)
        if not base:
            self._joined.add(vid)
        self._file(token, vid, base, keys)
        return vid

    @staticmethod
    def _file(token: str, vid: int, base: bool, keys: dict[str, list[int]]) -> None:
        found = set(deletions(token)) if base and len(token) >= 4 else {token}
        sound = sound_key(token)
        found.update(_SOUND + k for k in (deletions(sound) if base and len(sound) >= 6 else (sound,)))
        bones = skeleton(token)
        if bones:
            found.add(_SKELETON + bones)
        for key in found:
            keys.setdefault(key, []).append(vid)

    # -- searching --

    def __len__(self) -> int:
        return len(self._records)

    @property
    def vocabulary_size(self) -> int:
        """Distinct tokens (and joined pieces) of the listed names."""
        return len(self._tokens)

    def expand(self, token: str) -> dict[int, TokenHit]:
        """The vocabulary tokens that ``token`` may be, with how each matches it."""
        hit = self._listed.get(token)
        if hit is None:
            hit = self._cache.get(token)
            if hit is None:
                hit = self._remember(token, self._expansion(token))
        return hit

    def _remember(self, key: str, expansion: dict[int, TokenHit]) -> dict[int, TokenHit]:
        """Keep an expansion in the bounded cache (emptied when full) and return it; the
        many that find nothing share one empty answer."""
        if len(self._cache) >= _EXPANSION_CACHE:
            self._cache.clear()
        self._cache[key] = expansion or _NOTHING
        return expansion

    def _expansion(self, token: str) -> dict[int, TokenHit]:
        found: set[int] = set()
        keys = self._keys
        for key in deletions(token) if len(token) >= 4 else (token,):
            found.update(keys.get(key, ()))
        sound = sound_key(token)
        for key in deletions(sound) if len(sound) >= 6 else (sound,):
            found.update(keys.get(_SOUND + key, ()))
        bones = skeleton(token)
        if bones and (len(bones) >= 3 or is_vowelless(token)):
            found.update(keys.get(_SKELETON + bones, ()))
        out: dict[int, TokenHit] = {}
        tokens, joined = self._tokens, self._joined
        own = self._vocab.get(token)
        listed = own is not None and own not in joined
        for vid in found:
            other = tokens[vid]
            similarity, how = compare_tokens(token, other)
            # A joined piece stands for two name parts: only a close match counts,
            # or "li jian" would meet "liu jun" by sound.
            if similarity >= JOINED_SIMILARITY or similarity > 0 and vid not in joined:
                if listed and how in ("fuzzy", "phonetic") and other_name(token, other):
                    continue
                out[vid] = TokenHit(similarity, how, _vowel_only(token, other, how))
        return out

    def _expand_piece(self, piece: str, mask: int) -> dict[int, TokenHit]:
        if mask & (mask - 1) == 0:
            return self.expand(piece)
        # Two parts written apart in the query: they may be one listed token
        # (xiao ming / xiaoming), spelt the same or sounding the same.
        name = " " + piece
        cached = self._cache.get(name)
        if cached is not None:
            return cached
        same = self._vocab.get(piece)
        if same is not None and same in self._joined:
            # Listed names write these very parts apart too: the single parts meet.
            return self._remember(name, _NOTHING)
        # Uncached keys: two parts joined are rarely seen twice, and their own cache is here.
        found: set[int] = set()
        for key in (piece, _SOUND + sound_key_of(piece)):
            found.update(self._keys.get(key, ()))
        found.update(self._solo.get(_SKELETON + skeleton_of(piece), ()))
        out: dict[int, TokenHit] = {}
        for vid in found:
            similarity, how = compare_tokens(piece, self._tokens[vid])
            if similarity >= JOINED_SIMILARITY:
                out[vid] = TokenHit(similarity, how, _vowel_only(piece, self._tokens[vid], how))
        return self._remember(name, out)

    def _query(self, normal: NormalName) -> _Query:
        tokens = normal.tokens[:MAX_TOKENS]
        pieces = [(self._expand_piece(p, mask), mask, p) for p, mask in _pieces(tokens)]
        by_vid: dict[int, list[tuple[float, int, MatchHow, bool]]] = {}
        for expansion, mask, _ in pieces:
            for vid, (similarity, how, vowel) in expansion.items():
                found = by_vid.get(vid)
                if found is None:
                    by_vid[vid] = [(similarity, mask, how, vowel)]
                else:
                    found.append((similarity, mask, how, vowel))
        weights = tuple(_weight(t) for t in tokens)
        blockable = [(list(e), m) for e, m, p in pieces if e and _blockable(p, m)]
        singles = [va for va, ma in blockable if not ma & (ma - 1)]
        return _Query(
            tokens, weights, sum(weights), _first(tokens), pieces, by_vid,
            not self._multi.isdisjoint(by_vid), normal.script == "other",
            normal.syllabic, any(len(t) == 1 for t in tokens), all(w == 1.0 for w in weights),
            all(is_syllable_chain(t) for t in tokens), blockable,
            sum(1 for _, m, p in pieces if m & (m - 1) == 0 and _blockable(p, m)) >= 3,
            sum(map(len, singles)) != len(set().union(*singles)),
            tuple((i, t) for i, t in enumerate(tokens) if len(t) >= 4 and t not in self._vocab),
        )

    def candidates(self, normal: NormalName, floor: float = 0.0) -> set[int]:
        """The listed names (record numbers) that share a block with a query."""
        return self._candidates(self._query(normal), floor)

    def _candidates(self, query: _Query, floor: float) -> set[int]:
        blockable, many = query.blockable, query.many
        # Two parts that may be one listed token (Mohammed Mohamed) are not counted as two.
        count = many and not (query.has_initials or query.overlap)
        out: set[int] = set()
        counted: list[set[int]] = []
        joined, pairs = self._multi, self._pairs
        for i, (va, ma) in enumerate(blockable):
            for vb, mb in blockable[i + 1 :]:
                if ma & mb:
                    continue
                if count and not (ma & (ma - 1) or mb & (mb - 1)):
                    # Names met through two single parts are counted (see
                    # _shared_bound); a listed joined piece may stand for more
                    # parts, so names met through one always pass.
                    found: set[int] = set()
                    for a in va:
                        a_joined = a in joined
                        for b in vb:
                            if b == a:
                                continue
                            key = (a << 32) | b if a < b else (b << 32) | a
                            block = pairs.get(key)
                            if block is None:
                                continue
                            into = out if a_joined or b in joined else found  # those pass uncounted
                            if block:
                                into.update(block)
                            else:
                                self._hot_blocks(key, into, out, blockable, ma | mb, many, floor)
                    counted.append(found)
                else:
                    for a in va:
                        for b in vb:
                            if b == a:
                                continue
                            key = (a << 32) | b if a < b else (b << 32) | a
                            block = pairs.get(key)
                            if block:
                                out.update(block)
                            elif block is not None:
                                self._hot_blocks(key, out, out, blockable, ma | mb, many, floor)
        if counted:
            times: Counter[int] = Counter()
            for found in counted:
                times.update(found)
            records, total = self._records, query.total
            rest = total - sum(1 for t in query.tokens if len(t) > 1 and not is_particle(t))
            # A part that meets no listed token may still be one cut short (see search):
            # the bound counts it as it counts particles and initials, as possibly aligned.
            rest += sum(1 for e, m, p in query.pieces if not e and not m & (m - 1) and len(p) >= 4)
            need = _pairs_needed(rest, total, floor)
            bounds: dict[tuple[int, float], float] = {}
            for rid, n in times.items():
                if n < need:
                    continue
                listed = records[rid].total
                bound = bounds.get((n, listed))
                if bound is None:
                    bound = bounds[n, listed] = _shared_bound(n, rest, total, listed)
                if bound >= floor:
                    out.add(rid)
        vids: set[int] = set().union(*(va for va, _ in blockable))
        for vid in self._single_vids.intersection(vids):
            out.update(self._singles[vid])
        if query.has_initials:
            for token in query.tokens:
                if len(token) == 1:
                    for va, ma in blockable:
                        if not ma & (ma - 1):
                            for vid in va:
                                found_initial = self._initials.get(_initial_key(ord(token), vid))
                                if found_initial:
                                    out.update(found_initial)
        return out

    def _hot_blocks(
        self, key: int, into: set[int], out: set[int], blockable: list[tuple[list[int], int]],
        mask: int, many: bool, floor: float,
    ) -> None:
        """The names under hot pair ``key`` (of query parts ``mask``) worth a look, into ``into``."""
        if not many:
            # Two parts against names of four or more: at best SHORT_QUERY_BOUND,
            # so those are left out above it.
            into.update(self._hot_short[key] if floor > SHORT_QUERY_BOUND else self._hot[key])
            return
        into.update(self._exact.get(key, ()))
        base = key * _TRIPLE
        triples, joined = self._triples, self._multi
        for vc, mc in blockable:
            if not mc & mask:
                for c in vc:
                    block = triples.get(base + c)
                    if block is not None:
                        (out if c in joined else into).update(block)

    def search(self, text: str, floor: float = 0.0) -> list[NameHit]:
        """Listed names matching ``text`` with a name score of at least ``floor``.

        The score aligns the query's tokens with the listed name's, best pairs
        first, each token used once (a joined piece uses the tokens it joins).
        Each token weighs 1 (a particle 0.25, an initial 0.5). Then::

            score = sum(similarity * (weight on both sides) over aligned pairs)
                    / (weight of aligned tokens, both sides + cost of the rest)

        where an unaligned token costs its weight, except that one unaligned
        listed token costs ``EXTRA_TOKEN_COST`` when the name screened is aligned
        in full, in the same order, and the listed name's first part is aligned
        (a middle name or a second surname left out; not for Chinese, Japanese
        or Korean syllables). A part of the name screened that the listed name
        lacks always costs in full: the list holds names as fully as it knows
        them, so an extra part names someone else. Order does not count:
        ``PETROV IVAN`` is ``IVAN PETROV``.

        A part of the name screened that no listed name has, left unaligned, that
        begins a listed part left unaligned, with four letters or more and at least
        ``TRUNCATED_SHARE`` of it, aligns as ``truncated`` (``TRUNCATED_SIMILARITY``):
        passports and API records cut long names short.

        Which token pairs align is decided with the list in view:

        - a token of the name screened that is itself a listed name part aligns
          with another listed part only if they differ by sound (Hussein /
          Hussain), not by a letter (Juan / Juana, Chen / Cheng): see
          :func:`other_name`;
        - when both names are made of open syllables only (Pinyin, Yoruba; see
          :func:`~engine.screen.names.is_syllable_chain`) tokens that differ in
          sound or vowels only do not align: Lu / Luo, Meng / Ming are other names.

        Candidates whose best possible score is under ``floor`` are not scored at all.
        """
        return [scored.hit() for scored in self.scores(text, floor)]

    def scores(
        self, text: str, floor: float = 0.0, lift: Callable[[int], float] | None = None, most: float = 0.0
    ) -> list[ScoredName]:
        """What :meth:`search` finds, before the explanations are written.

        ``lift``, when given, says for an owner what the other facts (birth date,
        nationality) add to or take from its score, and ``most`` the most it adds
        for anyone: a name is kept when its score and its owner's lift reach
        ``floor``, so a namesake born in another year is not even scored in full.
        """
        normal = normalise_name(text, self.kind)
        if not normal.tokens:
            return []
        query = self._query(normal)
        out: list[ScoredName] = []
        records = self._records
        by_vid = query.by_vid
        initials = query.has_initials
        lifts: dict[int, float] = {}
        lowest = floor - most  # what a name needs when its owner's facts add the most
        whole_q = (1 << len(query.tokens)) - 1
        for rid in self._candidates(query, lowest):
            record = records[rid]
            # The tokens that may align give a bound of the score; only names that
            # can reach the floor are aligned in full (and only their owners' facts
            # are compared: a bound under what the best facts could make up skips both).
            aligned: list[tuple[float, int, int, str]] = []
            covered_q = covered_e = 0
            syllables = query.syllables and record.syllables
            for vid, emask in record.pieces if query.joined else record.base:
                hits = by_vid.get(vid)
                if hits is not None:
                    for similarity, qmask, how, vowel in hits:
                        if not (vowel and syllables):
                            aligned.append((similarity, qmask, emask, how))
                            covered_q |= qmask
                            covered_e |= emask
            bound = 1.0
            if query.cut and covered_q != whole_q and covered_e != (1 << len(record.tokens)) - 1:
                # Parts left on both sides: one the list does not know may be the other cut short.
                for qi, qt in query.cut:
                    if covered_q >> qi & 1:
                        continue
                    for ei, et in enumerate(record.tokens):
                        if (not covered_e >> ei & 1 and len(et) > len(qt) and et.startswith(qt)
                                and len(qt) >= TRUNCATED_SHARE * len(et)):
                            aligned.append((TRUNCATED_SIMILARITY, 1 << qi, 1 << ei, "truncated"))
                            covered_q |= 1 << qi
                            covered_e |= 1 << ei
                            break
            if not (initials or record.has_initials):
                if not aligned:
                    continue
                bound = self._bound(query, record, covered_q, covered_e)
                if bound < lowest:
                    continue
            # The name score this owner needs, given what its other facts do.
            need = floor
            if lift is not None:
                up = lifts.get(record.owner)
                if up is None:
                    up = lifts[record.owner] = lift(record.owner)
                need = floor - up
            if bound < need:
                continue
            scored = self._score(record, query, aligned)
            if scored is not None and scored[0] >= need:
                out.append(ScoredName(record.owner, scored[0], record, query, *scored[1:]))
        return out

    @staticmethod
    def _bound(query: _Query, record: _Record, covered_q: int, covered_e: int) -> float:
        """The best score the record could get with only the tokens that may align."""
        if not covered_e:
            return 0.0
        mq = covered_q.bit_count() if query.uniform else _mask_weight(covered_q, query.weights)
        me = covered_e.bit_count() if record.uniform else _mask_weight(covered_e, record.weights)
        rest_q, rest_e = query.total - mq, record.total - me
        cost_e = _lenient(rest_e) if rest_q < 1e-9 else rest_e
        bound = (mq + me) / (mq + me + rest_q + cost_e)
        return bound * WEAK_ALIAS_FACTOR if record.weak else bound

    @staticmethod
    def _score(
        record: _Record, query: _Query, aligned: list[tuple[float, int, int, str]]
    ) -> tuple[float, list[tuple[float, int, int, str]], int, int] | None:
        """The record's name score, and the alignment it comes from, from the
        pairs of tokens that may align (``aligned``, added to here)."""
        tokens = query.tokens
        if query.has_initials or record.has_initials:
            for qi, qt in enumerate(tokens):
                for ei, et in enumerate(record.tokens):
                    if (len(qt) == 1) != (len(et) == 1) and qt[0] == et[0]:
                        aligned.append((INITIAL_SIMILARITY, 1 << qi, 1 << ei, "initial"))
        if not aligned:
            return None
        if len(aligned) > 1:
            # Best first; at equal similarity single tokens before joined pieces.
            aligned.sort(key=lambda a: (-a[0], a[1].bit_count() + a[2].bit_count()))
        used_q = used_e = 0
        numerator = matched_q = matched_e = 0.0
        chosen: list[tuple[float, int, int, str]] = []
        for item in aligned:
            similarity, qmask, emask, _ = item
            if qmask & used_q or emask & used_e:
                continue
            used_q |= qmask
            used_e |= emask
            wq = qmask.bit_count() if query.uniform else _mask_weight(qmask, query.weights)
            we = emask.bit_count() if record.uniform else _mask_weight(emask, record.weights)
            numerator += similarity * (wq + we)
            matched_q += wq
            matched_e += we
            chosen.append(item)
        rest_q = query.total - matched_q
        rest_e = record.total - matched_e
        cost_e = rest_e
        if (
            rest_q < 1e-9 and used_q.bit_count() >= 2 and used_e.bit_count() >= 2
            and not (query.syllabic or record.syllabic) and used_e & record.first and _in_order(chosen, True)
        ):
            # The listed name's extra parts are middle names (or a second surname)
            # when its first part is matched and the matched parts keep their order.
            # Not the other way round: a part of the name screened that the listed
            # name lacks names someone else (the list holds names as fully as known).
            cost_e = _lenient(rest_e)
        score = numerator / (matched_q + matched_e + rest_q + cost_e)
        if record.weak:
            score *= WEAK_ALIAS_FACTOR
        return round(score, 4), chosen, used_q, used_e

    @staticmethod
    def _hit(
        record: _Record, query: _Query, score: float, chosen: list[tuple[float, int, int, str]],
        used_q: int, used_e: int,
    ) -> NameHit:
        transliterated = query.other_script or record.other_script
        parts: list[PartMatch] = []
        for similarity, qmask, emask, how in chosen:
            listed = display_tokens(t for i, t in enumerate(record.tokens) if emask >> i & 1)
            label = how
            if qmask & (qmask - 1) or emask & (emask - 1):
                label = "joined" if how == "exact" else f"joined, {how}"
            if transliterated and how not in ("initial", "transliteration"):
                label = f"transliteration ({label})"
            parts.append(PartMatch(listed, label, similarity))
        unmatched = tuple(
            t.upper() for i, t in enumerate(record.tokens) if not used_e >> i & 1 and not is_particle(t)
        )
        unmatched_query = sum(
            1 for i, t in enumerate(query.tokens) if not used_q >> i & 1 and not is_particle(t)
        )
        return NameHit(
            record.owner, record.text, score, tuple(parts), unmatched, unmatched_query, record.weak
        )

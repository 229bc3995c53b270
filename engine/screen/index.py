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

**3. Hot pairs.** Some pairs are common too (``mohammed`` + ``ahmed``). A pair
with more than :data:`HOT_PAIR` names is *hot*: the names under it that have
more parts are also filed under the hot pair plus each of their other parts
(a triple). A query of three or more parts looks up those triples instead of
the hot pair, plus the names that are exactly that pair; a query of two parts
still gets the whole pair.

**4. Bound, then score.** For each candidate, the parts it can possibly align
give an upper bound of its score in a few look-ups; only candidates whose bound
reaches the floor are scored in full (see :meth:`NameIndex.search`).

An index is immutable once built: a new list version is a new index, built
beside the old one and swapped in by reference.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from engine.screen.names import (
    MatchHow,
    NameKind,
    NormalName,
    compare_tokens,
    deletions,
    display_tokens,
    is_particle,
    is_vowelless,
    normalise_name,
    skeleton,
    sound_key,
)

#: Tokens beyond this many are ignored (a name, not a paragraph).
MAX_TOKENS = 8
#: How much one unmatched token counts when the other name is wholly matched in
#: order from its first part: one missing or extra middle name costs a little; a
#: different given name, or a second missing part, its full weight.
EXTRA_TOKEN_COST = 0.35
#: Weight of a particle (``al``, ``bin``, ``van``) and of an initial, against 1 for a name part.
PARTICLE_WEIGHT = 0.25
INITIAL_WEIGHT = 0.5
INITIAL_SIMILARITY = 0.7
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
    """How one query token matched one listed token."""

    similarity: float
    how: MatchHow


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
    weights: tuple[float, ...]
    total: float
    first: int  # mask of the first name part
    weak: bool
    other_script: bool
    syllabic: bool
    has_initials: bool
    uniform: bool  # every token weighs 1


class _Query(NamedTuple):
    tokens: tuple[str, ...]
    weights: tuple[float, ...]
    total: float
    first: int
    pieces: list[tuple[dict[int, TokenHit], int, str]]
    by_vid: dict[int, list[tuple[float, int, MatchHow]]]  # vocabulary id -> (similarity, query mask, how)
    cover: dict[int, int]  # vocabulary id -> query tokens it may align with
    other_script: bool
    syllabic: bool
    has_initials: bool
    uniform: bool


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
    """The tokens, and adjacent tokens joined (with a particle between them, three)."""
    out = [(t, 1 << i) for i, t in enumerate(tokens)]
    for i in range(len(tokens) - 1):
        a, b = tokens[i], tokens[i + 1]
        if len(a) > 1 and len(b) > 1 and not is_particle(b):  # a particle leans on what follows it
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


def _blockable(piece: str, mask: int) -> bool:
    """Whether a piece may be part of a block key: not a particle or an initial alone."""
    return mask & (mask - 1) != 0 or (len(piece) > 1 and not is_particle(piece))


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
        self._joined: set[int] = set()  # vocabulary ids of joined pieces
        keys: dict[str, list[int]] = {}
        records: list[_Record] = []
        blocks_of: list[list[tuple[int, int]]] = []  # per record: its blockable pieces
        pairs: dict[int, list[int]] = {}
        singles: dict[int, list[int]] = {}
        for owner, text, weak in names:
            normal = normalise_name(text, kind)
            tokens = normal.tokens[:MAX_TOKENS]
            if not tokens:
                continue
            rid = len(records)
            texts = _pieces(tokens)
            pieces = [(self._add(p, mask & (mask - 1) == 0, keys), mask) for p, mask in texts]
            weights = tuple(_weight(t) for t in tokens)
            records.append(_Record(
                owner, text, tokens, tuple(pieces), weights, sum(weights), _first(tokens), weak,
                normal.script == "other", normal.syllabic, any(len(t) == 1 for t in tokens),
                all(w == 1.0 for w in weights),
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
        self._pairs = {k: tuple(v) for k, v in pairs.items() if k not in hot}
        self._hot = {k: tuple(pairs[k]) for k in hot}
        self._hot_short = {k: tuple(r for r in pairs[k] if parts[r] <= 3) for k in hot}
        self._exact = {k: tuple(v) for k, v in exact.items()}
        self._triples = {k: tuple(v) for k, v in triples.items()}
        self._singles = {k: tuple(v) for k, v in singles.items()}
        self._keys: dict[str, tuple[int, ...]] = {k: tuple(v) for k, v in keys.items()}
        self._cache: dict[str, dict[int, TokenHit]] = {}

    # -- building --

    def _add(self, token: str, base: bool, keys: dict[str, list[int]]) -> int:
        """The vocabulary id of a token, filing a new one under its keys. Joined
        pieces get fewer keys than base tokens: they only need to meet a whole
        token written together, not every typo of it."""
        vid = self._vocab.get(token)
        if vid is not None:
            return vid
        vid = len(self._tokens)
        self._vocab[token] = vid
        self._tokens.append(token)
        if not base:
            self._joined.add(vid)
        found = set(deletions(token)) if base and len(token) >= 4 else {token}
        sound = sound_key(token)
        found.update(_SOUND + k for k in (deletions(sound) if base and len(sound) >= 6 else (sound,)))
        bones = skeleton(token)
        if bones:
            found.add(_SKELETON + bones)
        for key in found:
            keys.setdefault(key, []).append(vid)
        return vid

    # -- searching --

    def __len__(self) -> int:
        return len(self._records)

    @property
    def vocabulary_size(self) -> int:
        """Distinct tokens (and joined pieces) of the listed names."""
        return len(self._tokens)

    def expand(self, token: str) -> dict[int, TokenHit]:
        """The vocabulary tokens that ``token`` may be, with how each matches it."""
        hit = self._cache.get(token)
        if hit is not None:
            return hit
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
        for vid in found:
            similarity, how = compare_tokens(token, tokens[vid])
            # A joined piece stands for two name parts: only a close match counts,
            # or "li jian" would meet "liu jun" by sound.
            if similarity >= JOINED_SIMILARITY or similarity > 0 and vid not in joined:
                out[vid] = TokenHit(similarity, how)
        if len(self._cache) >= _EXPANSION_CACHE:
            self._cache.clear()
        self._cache[token] = out
        return out

    def _expand_piece(self, piece: str, mask: int) -> dict[int, TokenHit]:
        if mask & (mask - 1) == 0:
            return self.expand(piece)
        # Two parts written apart in the query: they may be one listed token
        # (xiao ming / xiaoming), spelt the same or sounding the same.
        cached = self._cache.get(" " + piece)
        if cached is not None:
            return cached
        found: set[int] = set()
        for key in (piece, _SOUND + sound_key(piece), _SKELETON + skeleton(piece)):
            found.update(self._keys.get(key, ()))
        out: dict[int, TokenHit] = {}
        for vid in found:
            similarity, how = compare_tokens(piece, self._tokens[vid])
            if similarity >= JOINED_SIMILARITY:
                out[vid] = TokenHit(similarity, how)
        self._cache[" " + piece] = out
        return out

    def _query(self, normal: NormalName) -> _Query:
        tokens = normal.tokens[:MAX_TOKENS]
        pieces = [(self._expand_piece(p, mask), mask, p) for p, mask in _pieces(tokens)]
        by_vid: dict[int, list[tuple[float, int, MatchHow]]] = {}
        cover: dict[int, int] = {}
        for expansion, mask, _ in pieces:
            for vid, hit in expansion.items():
                by_vid.setdefault(vid, []).append((hit.similarity, mask, hit.how))
                cover[vid] = cover.get(vid, 0) | mask
        weights = tuple(_weight(t) for t in tokens)
        return _Query(
            tokens, weights, sum(weights), _first(tokens), pieces, by_vid, cover, normal.script == "other",
            normal.syllabic, any(len(t) == 1 for t in tokens), all(w == 1.0 for w in weights),
        )

    def candidates(self, normal: NormalName, floor: float = 0.0) -> set[int]:
        """The listed names (record numbers) that share a block with a query."""
        return self._candidates(self._query(normal), floor)

    def _candidates(self, query: _Query, floor: float) -> set[int]:
        blockable = [(list(e), m) for e, m, p in query.pieces if e and _blockable(p, m)]
        many = sum(1 for e, m, p in query.pieces if m & (m - 1) == 0 and _blockable(p, m)) >= 3
        out: set[int] = set()
        pairs, hot, triples = self._pairs, self._hot, self._triples
        for i, (va, ma) in enumerate(blockable):
            for vb, mb in blockable[i + 1 :]:
                if ma & mb:
                    continue
                for a in va:
                    for b in vb:
                        if a == b:
                            continue
                        key = (a << 32) | b if a < b else (b << 32) | a
                        block = pairs.get(key)
                        if block is not None:
                            out.update(block)
                        elif key in hot:
                            if not many:
                                # Two parts against names of four or more: at best
                                # SHORT_QUERY_BOUND, so those are left out above it.
                                out.update(hot[key] if floor <= SHORT_QUERY_BOUND else self._hot_short[key])
                                continue
                            out.update(self._exact.get(key, ()))
                            base = key * _TRIPLE
                            for vc, mc in blockable:
                                if not mc & (ma | mb):
                                    for c in vc:
                                        out.update(triples.get(base + c, ()))
        for vids, _ in blockable:
            for vid in vids:
                out.update(self._singles.get(vid, ()))
        return out

    def search(self, text: str, floor: float = 0.0) -> list[NameHit]:
        """Listed names matching ``text`` with a name score of at least ``floor``.

        The score aligns the query's tokens with the listed name's, best pairs
        first, each token used once (a joined piece uses the tokens it joins).
        Each token weighs 1 (a particle 0.25, an initial 0.5). Then::

            score = sum(similarity * (weight on both sides) over aligned pairs)
                    / (weight of aligned tokens, both sides + cost of the rest)

        where an unaligned token costs its weight, except that one of them costs
        ``EXTRA_TOKEN_COST`` when the other name is aligned in full, in the same
        order, and the longer name's first part is aligned (a middle name or a
        second surname missing or added; not for Chinese, Japanese or Korean
        syllables). Order does not count: ``PETROV IVAN`` is ``IVAN PETROV``.
        Candidates whose best possible score is under ``floor`` are not scored at all.
        """
        normal = normalise_name(text, self.kind)
        if not normal.tokens:
            return []
        query = self._query(normal)
        out: list[NameHit] = []
        records = self._records
        cover = query.cover
        for rid in self._candidates(query, floor):
            record = records[rid]
            if not (query.has_initials or record.has_initials):
                covered_q = covered_e = 0
                for vid, emask in record.pieces:
                    qmask = cover.get(vid)
                    if qmask is not None:
                        covered_q |= qmask
                        covered_e |= emask
                if self._bound(query, record, covered_q, covered_e) < floor:
                    continue
            scored = self._score(record, query)
            if scored is not None and scored[0] >= floor:
                out.append(self._hit(record, query, *scored))
        return out

    @staticmethod
    def _bound(query: _Query, record: _Record, covered_q: int, covered_e: int) -> float:
        """The best score the record could get with only the tokens that may align."""
        if not covered_e:
            return 0.0
        mq = covered_q.bit_count() if query.uniform else _mask_weight(covered_q, query.weights)
        me = covered_e.bit_count() if record.uniform else _mask_weight(covered_e, record.weights)
        rest_q, rest_e = query.total - mq, record.total - me
        cost_q = _lenient(rest_q) if rest_e < 1e-9 else rest_q
        cost_e = _lenient(rest_e) if rest_q < 1e-9 else rest_e
        bound = (mq + me) / (mq + me + cost_q + cost_e)
        return bound * WEAK_ALIAS_FACTOR if record.weak else bound

    def _score(
        self, record: _Record, query: _Query
    ) -> tuple[float, list[tuple[float, int, int, str]], int, int] | None:
        """The record's name score, and the alignment it comes from."""
        aligned: list[tuple[float, int, int, str]] = []
        by_vid = query.by_vid
        for vid, emask in record.pieces:
            hits = by_vid.get(vid)
            if hits is not None:
                for similarity, qmask, how in hits:
                    aligned.append((similarity, qmask, emask, how))
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
        cost_q, cost_e = rest_q, rest_e
        if used_q.bit_count() >= 2 and used_e.bit_count() >= 2 and not (query.syllabic or record.syllabic):
            # Extra parts are middle names (or a second surname) when the longer
            # name's first part is matched and the matched parts keep their order.
            if rest_q < 1e-9 and used_e & record.first and _in_order(chosen, True):
                cost_e = _lenient(rest_e)
            elif rest_e < 1e-9 and used_q & query.first and _in_order(chosen, False):
                cost_q = _lenient(rest_q)
        score = numerator / (matched_q + matched_e + cost_q + cost_e)
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

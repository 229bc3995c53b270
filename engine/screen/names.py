"""How names are made comparable, and how two name tokens are compared.

A name goes through the same steps whether it comes from a watchlist or from an
event, so that both sides meet in one form:

1. **Script**: anything outside ASCII is transliterated with ``anyascii``
   (Cyrillic ``Пётр`` -> ``petr``, Greek, accented Latin ``Müller`` -> ``muller``).
   Chinese, Japanese and Korean characters are transliterated one syllable at a
   time with a space between them (``王小明`` -> ``wang xiao ming``), because a
   name written in Latin letters may join or split those syllables either way.
   Arabic and Hebrew come out without their short vowels (``محمد`` -> ``mhmd``);
   such *vowelless* tokens are compared by their consonants (step "skeleton").
2. **Case and punctuation**: lower case; apostrophes and the ayn mark are
   dropped so that ``O'Neil`` is ``oneil``; every other mark (hyphen, dot, comma)
   separates tokens.
3. **Noise words**: honorifics and titles (``mr``, ``dr``, ``sheikh``,
   ``general``...) in front of a person's name and post-nominals (``jr``,
   ``phd``) after it are dropped (inside a name a title word is a name part:
   ``Al-Sayed``, ``Khalid Sheikh Mohammed``), legal forms (``llc``,
   ``gmbh``, ``ooo``...) from organisations', hull prefixes (``mv``, ``mt``) from
   vessels'. Particles (``al``, ``bin``, ``van``, ``de``...) stay but weigh little.

Two tokens are then compared by :func:`compare_tokens`, which says how they
match and how strongly (a similarity in [0, 1]):

========================  ===========================================  ==========
how                       when                                         similarity
========================  ===========================================  ==========
``exact``                 the same after the steps above               1.00
``fuzzy``                 one edit apart (typo, transposition)         0.86-0.92
``fuzzy``                 two edits apart, both tokens 8+ letters      0.82
``phonetic``              same sound key, similar spelling             0.84-0.90
``phonetic``              sound keys one edit apart, 5+ sounds         0.80-0.82
``phonetic``              same consonants, most of the spelling        0.80-0.90
``transliteration``       a vowelless token (from Arabic script) has   0.86-0.90
                          the same consonants as the other
``initial``               a single letter and a token it begins        0.70
========================  ===========================================  ==========

Anything else is no match (0), and so are the masculine and feminine forms of a
name part, which name two people: a Slavic surname and its ``a`` form
(``Petrov`` / ``Petrova``) and an ``o`` / ``a`` ending (``Alessandro`` /
``Alessandra``). A three-letter token that is a four-letter one with its last
letter lost (``Joh`` / ``John``) is ``fuzzy`` at 0.84. The bands are deliberately coarse: what decides a
screening result is how many of a name's parts match, not a third decimal.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from anyascii import anyascii
from rapidfuzz.distance import OSA, Indel

NameKind = Literal["person", "organisation", "vessel"]

#: Honorifics, ranks and titles: they say something about a person, not who they are.
TITLES = frozenset(
    """
    mr mrs ms miss mx dr doctor prof professor sir dame lord lady madam madame mme mlle herr
    frau sr sra srta jr junior snr senior esq hon rev reverend fr father sister brother sheikh
    sheik shaikh shaykh sayyid sayed haji hajji hadji alhaji imam mullah mufti maulana maulvi
    ayatollah hojatoleslam gen general col colonel monsieur mademoiselle mister signor signora signore
    senor senora senorita
    maj major capt captain cpt lt lieutenant sgt sergeant cmdr commander adm admiral brig
    brigadier marshal eng engr phd md mba sheikha shaikha hajj hajja hajjah chief oba don dona
    ustadh ustaz pastor bishop rabbi sri shri smt
    """.split()  # noqa: SIM905 - a block of words reads better than a list
)
#: Titles that follow a name rather than precede it.
POST_NOMINALS = frozenset({"jr", "junior", "sr", "snr", "senior", "esq", "phd", "md", "mba"})
#: Small words inside names that vary more than they identify ("bin", "al", "van", "de").
PARTICLES = frozenset(
    """
    al el ul ad ar as at az an ash bin ibn ben bint binti bte ould van von der den ter de da das
    do dos di del della dei du la le lo y
    """.split()  # noqa: SIM905 - a block of words reads better than a list
)
#: Legal forms and other words that every other company name has too.
LEGAL_FORMS = frozenset(
    """
    llc ltd limited inc incorporated corp corporation co company plc llp lp gmbh ag kg sa sas
    sarl srl spa bv nv ab as oy aps ooo oao zao pao pjsc ojsc cjsc jsc ao tov pte pvt pty fze
    fzco fzc fz est wll bhd sdn kk the and of
    """.split()  # noqa: SIM905 - a block of words reads better than a list
)
#: Hull prefixes in front of vessel names.
HULL_PREFIXES = frozenset(
    """
    mv mt ms mty mvs ss sv fv rv my mfv mtb hmsv m v
    """.split()  # noqa: SIM905 - a block of words reads better than a list
)

_NOISE: dict[str, frozenset[str]] = {
    "person": TITLES,
    "organisation": LEGAL_FORMS,
    "vessel": HULL_PREFIXES,
}

# Han, kana and hangul: scripts whose characters are syllables of a name.
_SYLLABIC = re.compile(
    "[\u2e80-\u2fdf\u3040-\u30ff\u3100-\u31bf\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]"
)
_ASCII_FOLD: dict[int, str | int | None] = {i: " " for i in range(128) if not chr(i).isalnum()}
_ASCII_FOLD.update({ord("'"): None, ord("`"): None})
_ASCII_FOLD.update({ord(c): ord(c.lower()) for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"})
_VOWELS = frozenset("aeiou")
_SKELETON_DROP = str.maketrans("", "", "aeiouyw")


@dataclass(frozen=True, slots=True)
class NormalName:
    """A name after normalisation: its tokens, in their original order.

    ``script`` is ``"latin"`` when the name was written in (possibly accented)
    Latin letters and ``"other"`` when it had to be transliterated; a match
    found through a transliterated name is explained as such. ``syllabic`` is
    True when its tokens are syllables of Chinese, Japanese or Korean characters:
    there a missing syllable is another name, not a missing middle name.
    """

    tokens: tuple[str, ...]
    script: Literal["latin", "other"]
    syllabic: bool = False


# Ukrainian Cyrillic is written in Latin letters by Ukraine's own rules (the
# national transliteration of 2010, which its passports use), where Г is H and И
# is Y: Сергій is Serhii, not the Russian reading Sergiy. Applied to names that
# have a letter only Ukrainian uses (Є, І, Ї, Ґ); anyascii does the rest.
_UKRAINIAN_ONLY = frozenset("ЄІЇҐєіїґ")
_UKRAINIAN = str.maketrans({
    "Г": "H", "г": "h", "Ґ": "G", "ґ": "g", "И": "Y", "и": "y", "І": "I", "і": "i",
    "Ї": "I", "ї": "i", "Й": "I", "й": "i", "Є": "Ie", "є": "ie", "Ю": "Iu", "ю": "iu",
    "Я": "Ia", "я": "ia", "Х": "Kh", "х": "kh", "Щ": "Shch", "щ": "shch",
})
# At the start of a word these are written with a Y: Yaroslav, Yevhen, Yurii.
_UKRAINIAN_AT_START = {
    "Є": "Ye", "є": "ye", "Ї": "Yi", "ї": "yi", "Й": "Y", "й": "y",
    "Ю": "Yu", "ю": "yu", "Я": "Ya", "я": "ya",
}
_UKRAINIAN_INITIAL = re.compile(r"(?<!\w)([ЄЇЙЮЯєїйюя])")


def to_ascii(text: str) -> str:
    """Transliterate ``text`` to ASCII, keeping the syllables of CJK names apart.

    >>> to_ascii("Jürgen Müller")
    'Jurgen Muller'
    >>> to_ascii("王小明")
    ' Wang  Xiao  Ming '
    >>> to_ascii("Сергій Петрович Зінченко"), to_ascii("Юлія Ярова")
    ('Serhii Petrovych Zinchenko', 'Yuliia Yarova')
    """
    if text.isascii():
        return text
    if not _UKRAINIAN_ONLY.isdisjoint(text):
        text = _UKRAINIAN_INITIAL.sub(lambda m: _UKRAINIAN_AT_START[m.group(1)], text)
        text = text.translate(_UKRAINIAN)
    if _SYLLABIC.search(text) is None:
        return anyascii(text)
    return "".join(f" {anyascii(ch)} " if _SYLLABIC.match(ch) else anyascii(ch) for ch in text)


def _is_latin(text: str) -> bool:
    """True when every letter of ``text`` is Latin (accents allowed)."""
    for ch in text:
        if ch.isalpha() and not ch.isascii() and "LATIN" not in unicodedata.name(ch, ""):
            return False
    return True


def normalise_name(text: str, kind: NameKind = "person") -> NormalName:
    """Tokens of ``text`` made comparable: see the module docstring for the steps.

    A person's name with one comma is read the way registers write it, family
    name first: ``PETROV, Ivan Sergeyevich`` is ``ivan sergeyevich petrov``.

    >>> normalise_name("Dr. Jean-Pierre O'Neil").tokens
    ('jean', 'pierre', 'oneil')
    >>> normalise_name("PETROV, Ivan Sergeyevich").tokens
    ('ivan', 'sergeyevich', 'petrov')
    >>> normalise_name("Владимир Путин").tokens
    ('vladimir', 'putin')
    >>> normalise_name("OOO Gazprom Neft", "organisation").tokens
    ('gazprom', 'neft')
    """
    ascii_text = text.isascii()
    script: Literal["latin", "other"] = "latin" if ascii_text or _is_latin(text) else "other"
    syllabic = not ascii_text and _SYLLABIC.search(text) is not None
    if kind == "person" and text.count(",") == 1:
        family, given = text.split(",")
        if family.strip() and given.strip():
            text = f"{given} {family}"
    folded = to_ascii(text).translate(_ASCII_FOLD).split()
    if script == "other" and kind == "person":  # Latin titles would drop Arabic "mr" (Omar)
        return NormalName(tuple(folded), script, syllabic)
    noise = _NOISE[kind]
    if kind == "person":
        tokens = _untitled(folded)
    else:
        folded = _join_letters(folded, noise)
        tokens = [t for t in folded if t not in noise]
    if not tokens or kind == "person" and len(tokens) < 2 <= len(folded):
        # Noise words are kept when dropping them would leave less than a name:
        # "Don Smith" is a name, "The Company" too.
        tokens = folded
    return NormalName(tuple(tokens), script, syllabic)


def _untitled(tokens: list[str]) -> list[str]:
    """A person's name without the titles in front of it and the post-nominals after it
    (``jr``, ``phd``). A title word inside the name is a name part: ``AL-SAYED``,
    ``KHALID SHEIKH MOHAMMED``.

    >>> _untitled(["dr", "sheikh", "khalid", "sheikh", "mohammed", "phd"])
    ['khalid', 'sheikh', 'mohammed']
    """
    start, end = 0, len(tokens)
    while start < end and tokens[start] in TITLES:
        start += 1
    while end > start and tokens[end - 1] in POST_NOMINALS:
        end -= 1
    return tokens[start:end]


def _join_letters(tokens: list[str], noise: frozenset[str]) -> list[str]:
    """Single letters in a row that spell a noise word, written with dots
    (``L.L.C.``, ``S.A.``), as that word: ``["example", "l", "l", "c"]`` ->
    ``["example", "llc"]``."""
    out: list[str] = []
    run: list[str] = []
    for token in [*tokens, ""]:
        if len(token) == 1:
            run.append(token)
            continue
        if len(run) > 1 and "".join(run) in noise:
            out.append("".join(run))
        else:
            out.extend(run)
        run = []
        if token:
            out.append(token)
    return out


def is_particle(token: str) -> bool:
    """True for the small linking words of names (``al``, ``bin``, ``van``...)."""
    return token in PARTICLES


def is_vowelless(token: str) -> bool:
    """True for a token with no written vowels, as Arabic script gives (``mhmd``)."""
    return len(token) > 1 and not _VOWELS.intersection(token) and token.isalpha()


@lru_cache(maxsize=65536)
def skeleton(token: str) -> str:
    """The consonants of a token, as an abjad script would write them.

    Vowels (and ``y``/``w``, which Arabic uses for long vowels) are dropped,
    ``q`` is read as ``k``, doubled letters are written once and a final ``h``
    (the Arabic ``ة``) is dropped:

    >>> skeleton("mohammed"), skeleton("mhmd"), skeleton("hussein"), skeleton("fatimah")
    ('mhmd', 'mhmd', 'hsn', 'ftm')
    """
    return skeleton_of(token)


def skeleton_of(token: str) -> str:
    """:func:`skeleton` without its cache, for strings seldom seen twice."""
    bare = token.translate(_SKELETON_DROP).replace("q", "k")
    out: list[str] = []
    for ch in bare:
        if not out or out[-1] != ch:
            out.append(ch)
    if len(out) > 1 and out[-1] == "h":
        out.pop()
    return "".join(out)


# Spelling differences that transliteration schemes make for the same sound,
# applied longest first. The key keeps vowels (folded into a few classes) because
# vowels are what tell Hassan from Hussein once the consonants agree.
_SOUND_RULES: tuple[tuple[str, str], ...] = (
    ("shch", "sh"), ("tsch", "ch"), ("dzh", "j"), ("sch", "sh"), ("tch", "ch"),
    ("kh", "h"), ("gh", "g"), ("ph", "f"), ("th", "t"), ("dh", "d"), ("zh", "j"), ("dj", "j"),
    ("ck", "k"), ("ks", "x"), ("cz", "ch"), ("sz", "sh"), ("ts", "z"), ("tz", "z"),
    ("ou", "u"), ("oo", "u"), ("ee", "i"), ("ie", "i"), ("ei", "i"), ("ey", "i"), ("iy", "i"),
    ("yy", "i"), ("ay", "ai"), ("ye", "e"), ("yo", "o"), ("yu", "u"), ("ya", "a"),
    ("ii", "i"), ("iu", "u"), ("ia", "a"),
    ("q", "k"), ("w", "v"), ("c", "k"), ("y", "i"), ("e", "i"), ("o", "u"),
)


@lru_cache(maxsize=65536)
def sound_key(token: str) -> str:
    """A key shared by spellings of one sound across transliteration schemes.

    Digraphs are folded (``kh``/``h``, ``ph``/``f``, ``ks``/``x``), vowels fall into
    three classes (a; e/i/y; o/u), and doubled letters are written once:

    >>> sound_key("sergey") == sound_key("sergei"), sound_key("aleksey") == sound_key("alexei")
    (True, True)
    >>> sound_key("hassan") == sound_key("hussein")
    False
    """
    return sound_key_of(token)


def sound_key_of(token: str) -> str:
    """:func:`sound_key` without its cache, for strings seldom seen twice."""
    key = token
    for old, new in _SOUND_RULES:
        if old in key:
            key = key.replace(old, new)
    out: list[str] = []
    for ch in key:
        if not out or out[-1] != ch:
            out.append(ch)
    return "".join(out)


def deletions(token: str) -> list[str]:
    """The token and every string one letter shorter: two tokens within one edit
    (a typo, a missing or extra letter, two letters swapped) share one of these.

    >>> sorted(set(deletions("abc")))
    ['ab', 'abc', 'ac', 'bc']
    """
    return [token, *(token[:i] + token[i + 1 :] for i in range(len(token)))]


# The syllables of Hanyu Pinyin (``u`` written for ``ü``; ``v`` as some systems type it).
# Chinese names are made of these; between two of them a vowel is not a spelling
# habit but another syllable (Lu / Luo, Meng / Ming, Xu / Xiu are different names).
PINYIN_SYLLABLES = frozenset(
    """
    a ai an ang ao e ei en eng er o ou
    ba bai ban bang bao bei ben beng bi bian biao bie bin bing bo bu
    pa pai pan pang pao pei pen peng pi pian piao pie pin ping po pou pu
    ma mai man mang mao me mei men meng mi mian miao mie min ming miu mo mou mu
    fa fan fang fei fen feng fo fou fu
    da dai dan dang dao de dei den deng di dian diao die ding diu dong dou du duan dui dun duo
    ta tai tan tang tao te teng ti tian tiao tie ting tong tou tu tuan tui tun tuo
    na nai nan nang nao ne nei nen neng ni nian niang niao nie nin ning niu nong nou nu nuan nuo nv nue
    la lai lan lang lao le lei leng li lia lian liang liao lie lin ling liu long lou lu luan lun luo lv lue
    ga gai gan gang gao ge gei gen geng gong gou gu gua guai guan guang gui gun guo
    ka kai kan kang kao ke ken keng kong kou ku kua kuai kuan kuang kui kun kuo
    ha hai han hang hao he hei hen heng hong hou hu hua huai huan huang hui hun huo
    ji jia jian jiang jiao jie jin jing jiong jiu ju juan jue jun
    qi qia qian qiang qiao qie qin qing qiong qiu qu quan que qun
    xi xia xian xiang xiao xie xin xing xiong xiu xu xuan xue xun
    zha zhai zhan zhang zhao zhe zhei zhen zheng zhi zhong zhou zhu zhua zhuai zhuan zhuang zhui zhun zhuo
    cha chai chan chang chao che chen cheng chi chong chou chu chua chuai chuan chuang chui chun chuo
    sha shai shan shang shao she shei shen sheng shi shou shu shua shuai shuan shuang shui shun shuo
    ran rang rao re ren reng ri rong rou ru rua ruan rui run ruo
    za zai zan zang zao ze zei zen zeng zi zong zou zu zuan zui zun zuo
    ca cai can cang cao ce cen ceng ci cong cou cu cuan cui cun cuo
    sa sai san sang sao se sen seng si song sou su suan sui sun suo
    ya yan yang yao ye yi yin ying yo yong you yu yuan yue yun
    wa wai wan wang wei wen weng wo wu
    """.split()  # noqa: SIM905 - a block of words reads better than a list
)


@lru_cache(maxsize=65536)
def is_syllable_chain(token: str) -> bool:
    """True when ``token`` can be read as Pinyin syllables one after another
    (``xiaoming`` = xiao + ming). Other languages built of open syllables pass too
    (Yoruba ``olumide``), and there as well a changed vowel makes another name.

    >>> is_syllable_chain("xiaoming"), is_syllable_chain("zhou"), is_syllable_chain("petrov")
    (True, True, False)
    """
    n = len(token)
    if not n:
        return False
    reach = [True] + [False] * n  # reach[i]: token[:i] splits into syllables
    for i in range(n):
        if reach[i]:
            for j in range(i + 1, min(n, i + 6) + 1):
                if token[i:j] in PINYIN_SYLLABLES:
                    reach[j] = True
    return reach[n]


MatchHow = Literal["exact", "fuzzy", "phonetic", "transliteration", "initial", "truncated", "none"]


def compare_tokens(query: str, listed: str) -> tuple[float, MatchHow]:
    """How well one name token matches another: ``(similarity, how)``.

    See the table in the module docstring. Symmetric except for initials, which
    may stand on either side.

    >>> compare_tokens("petrov", "petorv")
    (0.92, 'fuzzy')
    >>> compare_tokens("mhmd", "mohammed")
    (0.9, 'transliteration')
    >>> compare_tokens("mahmoud", "mohammed")
    (0.0, 'none')
    """
    if query == listed:
        return 1.0, "exact"
    lq, ll = len(query), len(listed)
    if lq == 1 or ll == 1:
        if lq == 1 and ll > 1 and listed[0] == query or ll == 1 and lq > 1 and query[0] == listed:
            return 0.7, "initial"
        return 0.0, "none"
    shorter = min(lq, ll)
    if shorter >= 5 and _gendered(query, listed):
        return 0.0, "none"
    best: tuple[float, MatchHow] = (0.0, "none")
    if shorter == 3 and abs(lq - ll) == 1:
        # A four-letter part with its last letter lost (JOH / JOHN, ADE / ADEL); not a
        # feminine a (ALI / ALIA).
        cut, whole = (query, listed) if lq < ll else (listed, query)
        if whole.startswith(cut) and whole[-1] != "a":
            best = 0.84, "fuzzy"
    if shorter >= 4:
        distance = OSA.distance(query, listed, score_cutoff=2)
        if distance == 1:
            # A different first letter is rarely a typo and often another name
            # (Hernandez / Fernandez), so it counts for less.
            if query[0] != listed[0]:
                best = 0.84, "fuzzy"
            else:
                best = (0.92 if shorter >= 6 else 0.88 if shorter >= 5 else 0.86), "fuzzy"
        elif distance == 2 and shorter >= 8:
            best = 0.82, "fuzzy"
    if best[0] < 0.9:
        kq, kl = sound_key(query), sound_key(listed)
        short = min(len(kq), len(kl))
        if kq == kl:
            # Same sound; the closer the spelling, the surer.
            similar = round(0.84 + 0.06 * Indel.normalized_similarity(query, listed), 2)
            if similar > best[0]:
                best = similar, "phonetic"
        elif best[0] < 0.82 and short >= 5 and OSA.distance(kq, kl, score_cutoff=1) == 1:
            best = (0.82 if short >= 6 else 0.8), "phonetic"  # Aleksandr / Alexander: one sound apart
    if best[0] < 0.86:
        sq, sl = skeleton(query), skeleton(listed)
        if sq == sl and sq:
            if is_vowelless(query) != is_vowelless(listed):
                best = (0.9 if len(sq) >= 3 else 0.86), "transliteration"
            elif shorter >= 4 and (query[0] == listed[0] or query[0] in _VOWELS and listed[0] in _VOWELS):
                # Same consonants, vowels spelt differently (Yusuf / Youssef, Omar / Umar).
                # How much of the spelling is shared decides; Mahmoud / Mohammed is not.
                shared = Indel.normalized_similarity(query, listed)
                if shared >= 0.6:
                    best = round(0.8 + 0.25 * (shared - 0.6), 2), "phonetic"
    return best


def _gendered(a: str, b: str) -> bool:
    """True for the masculine and feminine forms of one name part: a Slavic surname
    and its ``a`` form (PETROV / PETROVA, ILYIN / ILYINA) or an ``o`` / ``a`` ending
    (ALESSANDRO / ALESSANDRA). Those name two people, not one person misspelt."""
    short, long_ = (a, b) if len(a) <= len(b) else (b, a)
    if long_ == short + "a":
        return short.endswith(("ov", "ev", "in", "yn"))
    return len(a) == len(b) and a[:-1] == b[:-1] and {a[-1], b[-1]} == {"o", "a"}


def identifier_key(value: str) -> str:
    """A document, registration or ship number as compared: letters and digits only,
    upper case (``"ab 123-456"`` -> ``"AB123456"``).

    >>> identifier_key(" ab 123-456 ")
    'AB123456'
    """
    return "".join(ch for ch in to_ascii(value).upper() if ch.isalnum())


def imo_key(value: str) -> str:
    """An IMO ship number as its seven digits (``"IMO 9123456"`` -> ``"9123456"``)."""
    digits = "".join(ch for ch in value if ch.isdigit())
    return digits


def mmsi_key(value: str) -> str:
    """An MMSI as its nine digits."""
    return "".join(ch for ch in value if ch.isdigit())


def display_tokens(tokens: Iterable[str]) -> str:
    """Tokens as one upper-case string, for explanations."""
    return " ".join(tokens).upper()

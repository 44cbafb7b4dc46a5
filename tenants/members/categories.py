"""The maintained lists: member categories (構成員の区分) and consultation kinds.

Categories cover every kind of organisation the source document names. The
coverage matrix uses the core three and the related ones the document says
a network is "required" to include, plus 公民館 for circle information.
Codes are stable keys stored in the database; names are what people see and
type (also in CSV imports, where aliases are accepted).
"""

from __future__ import annotations

from dataclasses import dataclass

from portal.japanese import fold

CORE = "core"
RELATED = "related"
OTHER = "other"


@dataclass(frozen=True)
class Category:
    code: str
    name: str
    kana: str
    group: str
    aliases: tuple[str, ...] = ()

    @property
    def in_coverage(self) -> bool:
        return self.group in (CORE, RELATED)


CATEGORIES: tuple[Category, ...] = (
    Category("hoikusho", "保育所", "ほいくしょ", CORE, ("保育園", "私立保育園協会", "保育園関係者")),
    Category("shien_center", "子育て支援センター", "こそだてしえんせんたー", CORE, ("地域子育て支援センター", "地域子育て支援施設", "子育てひろば")),
    Category("hoken_center", "保健センター", "ほけんせんたー", CORE, ("区保健センター", "市町村保健センター")),
    Category("kyoiku_iinkai", "教育委員会", "きょういくいいんかい", RELATED, ("生涯学習課", "生涯学習振興課")),
    Category("yochien", "幼稚園", "ようちえん", RELATED, ("私立幼稚園協会", "幼稚園関係者")),
    Category("shogakko", "小学校", "しょうがっこう", RELATED, ("学校", "学校教育関係者")),
    Category("keisatsu", "警察", "けいさつ", RELATED, ("警察署",)),
    Category("npo", "子育てNPO", "こそだてえぬぴーおー", RELATED, ("NPO", "NPO法人")),
    Category("circle", "子育てサークル", "こそだてさーくる", RELATED, ("サークル",)),
    Category("kominkan", "公民館", "こうみんかん", RELATED, ("生涯学習センター", "生涯学習総合センター")),
    Category("kodomoen", "認定こども園", "にんていこどもえん", OTHER, ("こども園",)),
    Category("hokenjo", "保健所", "ほけんじょ", OTHER),
    Category("jidosodanjo", "児童相談所", "じどうそうだんじょ", OTHER),
    Category("shakyo", "社会福祉協議会", "しゃかいふくしきょうぎかい", OTHER, ("社協",)),
    Category("jido_iin", "主任児童委員・民生委員", "しゅにんじどういいん・みんせいいいん", OTHER,
             ("主任児童委員", "民生委員", "民生委員・児童委員", "主任児童委員連絡会")),
    Category("jido_center", "児童センター", "じどうせんたー", OTHER, ("児童館",)),
    Category("katei_jido", "家庭児童相談", "かていじどうそうだん", OTHER, ("家庭児童相談室", "家庭児童相談員", "区支援課")),
    Category("gakushiki", "学識経験者", "がくしきけいけんしゃ", OTHER, ("大学",)),
    Category("danjo", "男女共同参画", "だんじょきょうどうさんかく", OTHER, ("男女共同参画関係者",)),
    Category("supporter", "子育てサポーター", "こそだてさぽーたー", OTHER, ("子育て支援総合コーディネーター",)),
    Category("kigyo", "企業", "きぎょう", OTHER),
    Category("other", "その他", "そのた", OTHER),
)

BY_CODE = {c.code: c for c in CATEGORIES}
COVERAGE_CATEGORIES = tuple(c for c in CATEGORIES if c.in_coverage)
_BY_FOLDED_NAME = {fold(n): c for c in CATEGORIES for n in (c.name, c.kana, *c.aliases)}


def category_by_name(name: str) -> Category | None:
    """A category from its name, reading or an alias, width/kana-insensitively."""
    return _BY_FOLDED_NAME.get(fold(name))


def category_label(code: str) -> str:
    c = BY_CODE.get(code)
    return c.name if c else code


# What kinds of consultation an organisation can take (対応できる相談).
CONSULTATION_TAGS: tuple[str, ...] = (
    "育児不安",
    "発達相談",
    "一時預かり",
    "保育所入所",
    "虐待の疑い",
    "仲間づくり",
    "健康・医療",
    "経済的困難",
    "障害",
    "学校・不登校",
    "ひとり親",
    "遊び場・イベント",
)
_TAG_BY_FOLDED = {fold(t): t for t in CONSULTATION_TAGS}


def tag_by_name(name: str) -> str | None:
    return _TAG_BY_FOLDED.get(fold(name))

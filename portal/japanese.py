"""Japanese input: search folding, phone numbers, postal codes.

Each normaliser returns the stored form or raises ``InputError`` whose
message is shown to the user as is.
"""

from __future__ import annotations

import re
import unicodedata

import phonenumbers
from email_validator import EmailNotValidError, validate_email


class InputError(ValueError):
    """Bad input; the message is Japanese and meant for the user."""


_HIRAGANA_TO_KATAKANA = {cp: cp + 0x60 for cp in range(ord("ぁ"), ord("ゖ") + 1)}
_IGNORED = re.compile(r"[\s・･\-‐－―ー〜~（）()「」『』、。,.]")


def fold(text: str | None) -> str:
    """Search key: width, case, hiragana/katakana and punctuation differences removed.

    NFKC turns half-width katakana and full-width letters into their usual
    forms, then hiragana become katakana: 「ほけん」「ﾎｹﾝ」「ホケン」 all fold to ホケン.
    The long vowel mark and separators are dropped so that センター, せんたあ
    variants and spacing do not matter.
    """
    if not text:
        return ""
    text = unicodedata.normalize("NFKC", text).casefold().translate(_HIRAGANA_TO_KATAKANA)
    return _IGNORED.sub("", text)


_HALF_WIDTH_KANA = re.compile(r"[\uff61-\uff9f]+")


def tidy(text: str | None) -> str:
    """Names and other text shown as typed: trimmed, runs of spaces made one; no NFKC.

    「新座市子育て支援センター（分室）」 keeps its full-width parentheses and
    「ＮＰＯ」 its letters; only the search key (``fold``) ignores the difference.
    Half-width katakana (ﾆｲｻﾞ, left over from old Shift_JIS systems) alone become
    the ordinary full-width kana: no one means them as part of a name.
    """
    if not text:
        return ""
    text = _HALF_WIDTH_KANA.sub(lambda m: unicodedata.normalize("NFKC", m.group(0)), text)
    return re.sub(r"[ \t\u3000]+", " ", text).strip()


def clean(text: str | None) -> str:
    """Input to be parsed (phone numbers, codes, choices): NFKC for letters/digits/kana width, trimmed,
    single spaces. For text that is stored and shown, use ``tidy``."""
    if not text:
        return ""
    return re.sub(r"[ \t\u3000]+", " ", unicodedata.normalize("NFKC", text)).strip()


def normalize_phone(raw: str | None) -> str:
    """A Japanese phone number in national format (e.g. 048-477-1111), or ''."""
    raw = clean(raw)
    if not raw:
        return ""
    try:
        number = phonenumbers.parse(raw, "JP")
    except phonenumbers.NumberParseException as e:
        raise InputError(f"電話番号「{raw}」を読み取れません。市外局番から入力してください（例: 048-477-1111）。") from e
    if not phonenumbers.is_valid_number(number):
        raise InputError(f"電話番号「{raw}」は正しい番号ではありません。市外局番から入力してください（例: 048-477-1111）。")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)


def normalize_postal_code(raw: str | None) -> str:
    """〒 7 digits as 123-4567, or ''."""
    raw = clean(raw).replace("〒", "").strip()
    if not raw:
        return ""
    digits = re.sub(r"[-‐－ー]", "", raw)
    if not re.fullmatch(r"\d{7}", digits):
        raise InputError(f"郵便番号「{raw}」は7桁の数字で入力してください（例: 352-8623）。")
    return f"{digits[:3]}-{digits[3:]}"


def normalize_email(raw: str | None) -> str:
    raw = clean(raw)
    if not raw:
        return ""
    try:
        return validate_email(raw, check_deliverability=False).normalized.lower()
    except EmailNotValidError as e:
        raise InputError(f"メールアドレス「{raw}」の形式が正しくありません。") from e


def normalize_url(raw: str | None) -> str:
    raw = clean(raw)
    if not raw:
        return ""
    if not re.fullmatch(r"https?://[^\s/$.?#][^\s]*", raw, flags=re.IGNORECASE):
        raise InputError(f"ウェブサイト「{raw}」は http:// または https:// で始まるURLを入力してください。")
    return raw


def normalize_kana(raw: str | None) -> str:
    """Readings are stored in hiragana, whatever the user typed."""
    text = clean(raw)
    if not text:
        return ""
    text = "".join(chr(ord(c) - 0x60) if "ァ" <= c <= "ヶ" else c for c in text)
    if not re.fullmatch(r"[ぁ-ゖー・ 　a-zA-Z0-9]+", text):
        raise InputError(f"ふりがな「{raw}」はひらがなかカタカナで入力してください。")
    return text

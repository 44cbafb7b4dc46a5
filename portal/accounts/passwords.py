"""argon2id password hashing."""

from __future__ import annotations

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app


def _hasher() -> PasswordHasher:
    cfg = current_app.config
    return PasswordHasher(
        time_cost=cfg["ARGON2_TIME_COST"],
        memory_cost=cfg["ARGON2_MEMORY_COST"],
        parallelism=cfg["ARGON2_PARALLELISM"],
        type=Type.ID,
    )


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    if not password_hash:
        # Spend the same time as a real check so timing does not reveal accounts.
        _hasher().hash(password)
        return False
    try:
        return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher().check_needs_rehash(password_hash)


MIN_LENGTH = 12
MAX_LENGTH = 256


def password_problems(password: str, *, user_inputs: tuple[str, ...] = ()) -> list[str]:
    """Why a new password is not acceptable (Japanese), or [] when it is.

    At least 12 characters, and not guessable: zxcvbn (Dropbox's estimator,
    which knows the 30,000 most common passwords, keyboard walks, dates and
    repeats) must rate it 3 of 4 or better, counting the person's own e-mail
    and name as known words.
    """
    from zxcvbn import zxcvbn

    if len(password) < MIN_LENGTH:
        return [f"パスワードは{MIN_LENGTH}文字以上にしてください。"]
    if len(password) > MAX_LENGTH:
        return [f"パスワードは{MAX_LENGTH}文字以内にしてください。"]
    words = [w for value in user_inputs if value for w in (value, *value.replace("@", " ").replace(".", " ").split())]
    if zxcvbn(password[:100], user_inputs=words)["score"] < 3:
        return ["推測されやすいパスワードです。よく使われる語句・キーボードの並び・日付・メールアドレスの一部を避け、"
                "関係のない複数の単語を組み合わせるなどして長くしてください。"]
    return []

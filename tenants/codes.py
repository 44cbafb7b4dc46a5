"""全国地方公共団体コード (団体コード, JIS X 0402 + check digit)."""

from __future__ import annotations

import re

_CODE = re.compile(r"^\d{6}$")


def check_digit(code5: str) -> str:
    """The sixth digit of a local government code, per 総務省's rule."""
    total = sum(int(d) * w for d, w in zip(code5, (6, 5, 4, 3, 2), strict=True))
    return str((11 - total % 11) % 10)


def is_valid_code(code: str) -> bool:
    return bool(_CODE.match(code or "")) and check_digit(code[:5]) == code[5]

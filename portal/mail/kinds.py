"""What each kind of outgoing message is, in Japanese, for the outbox (種類).

Every ``enqueue(..., kind=...)`` in the code uses one of these keys;
``tests/test_wording.py`` reads the source and fails on a kind without a label.
"""

from __future__ import annotations

KIND_LABELS = {
    "invitation": "パスワード設定の案内（招待）",
    "password_reset": "パスワード再設定",
    "application_received": "登録申請の受付（申請者へ）",
    "application_to_review": "新しい登録申請（窓口へ）",
    "application_declined": "登録申請のお断り",
    "member_updated": "構成員の情報の更新（窓口へ）",
    "change_request_decided": "変更申請の結果",
    "handover_received": "引継ぎの受信",
    "handover_declined": "引継ぎの辞退（差し戻し）",
    "handover_resolved": "引継ぎの解決",
    "handover_overdue": "回答期限の超過（窓口へ）",
    "test": "テスト",
}


def kind_label(kind: str) -> str:
    # An unknown kind (e.g. typed into `mail queue --kind`) is shown as is rather than hidden.
    return KIND_LABELS.get(kind, kind)

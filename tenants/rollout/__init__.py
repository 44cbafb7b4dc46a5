"""Rollout toward "a network everywhere": declared status and 地域子育て応援タウン requirements."""

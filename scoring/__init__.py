"""Scoring of trainee replies against the 12368 standard-phrasing guide (规范用语)."""

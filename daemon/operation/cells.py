"""Cells of the CSV files the program writes (`export`, the liaison summary's attachment) that a
spreadsheet reads as text: one that starts with = + - @ (or a tab or carriage return) is prefixed
with an apostrophe, so that a name cannot become a formula."""

from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: object) -> object:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value

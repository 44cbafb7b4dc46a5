"""Bounds an .xlsx must meet before openpyxl reads it.

An .xlsx is a ZIP of XML, and tiny files can unpack into huge work: one row
of a million cells (110 kB zipped) makes openpyxl build a million cells even
in read-only mode, since it parses a whole ``<row>`` at once; a 50 MB string
compresses to 50 kB. So before openpyxl sees the file we check, cheaply and
while streaming, what the ZIP declares (entries, unpacked size — zipfile
never returns more than the declared size) and then every XML part with
expat (cells per row, characters per cell), stopping at the first excess.
"""

from __future__ import annotations

import zipfile
from xml.parsers import expat

MAX_ENTRIES = 500
MAX_UNPACKED_BYTES = 25 * 1024 * 1024  # a 2,000-row roster unpacks to a few MB
MAX_CELLS_PER_ROW = 1_000  # includes formatted empty cells, which Excel writes past the data
MAX_CELLS = 300_000  # per sheet: 2,000 rows × 60 columns, with room for formatted empty cells
MAX_CELL_CHARS = 10_000  # the longest field is 2,000 characters
_CHUNK = 64 * 1024


class LimitExceeded(ValueError):
    """The message is Japanese and names no content of the file."""


def too_long_cell(line: int | None = None) -> str:
    where = f"{line}行目に" if line else ""
    return f"{where}文字数が多すぎるセルがあります（1つのセルに {MAX_CELL_CHARS:,} 文字まで）。"


def check(z: zipfile.ZipFile) -> None:
    infos = z.infolist()
    if len(infos) > MAX_ENTRIES:
        raise LimitExceeded("Excelファイルの構成が大きすぎて読み込めません。必要なシートだけを新しいファイルに保存してください。")
    if sum(i.file_size for i in infos) > MAX_UNPACKED_BYTES:
        raise LimitExceeded(
            "Excelファイルの中身が大きすぎます（展開後 25 MB まで）。"
            "構成員の名簿だけを新しいファイルに保存し直してください。"
        )
    for info in infos:
        if info.filename.endswith(".xml") and info.filename.startswith("xl/"):
            with z.open(info) as stream:
                _scan(stream)


def _scan(stream) -> None:
    """Count cells (per ``<row>`` and in all) and characters per element, refusing at the first excess."""
    state = {"row": None, "cells": 0, "chars": 0, "total": 0}
    parser = expat.ParserCreate(namespace_separator=" ")

    def start(name: str, attrs: dict) -> None:
        local = name.rsplit(" ", 1)[-1]
        state["chars"] = 0
        if local == "row":
            state["row"] = attrs.get("r")
            state["cells"] = 0
        elif local == "c":
            state["cells"] += 1
            state["total"] += 1
            if state["total"] > MAX_CELLS:
                raise LimitExceeded(
                    f"セルが多すぎます（1つのシートに {MAX_CELLS:,} セルまで）。"
                    "構成員の名簿だけを新しいファイルに保存し直してください。"
                )
            if state["cells"] > MAX_CELLS_PER_ROW:
                where = f"{state['row']}行目の" if state["row"] and state["row"].isdigit() else "1つの行の"
                raise LimitExceeded(
                    f"{where}セルが多すぎます（1行に {MAX_CELLS_PER_ROW:,} セルまで）。"
                    "使っていない列を削除してから保存し直してください。"
                )

    def text(data: str) -> None:
        state["chars"] += len(data)
        if state["chars"] > MAX_CELL_CHARS:
            row = state["row"]
            raise LimitExceeded(too_long_cell(int(row) if row and row.isdigit() else None))

    def end(name: str) -> None:
        state["chars"] = 0

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text
    try:
        while chunk := stream.read(_CHUNK):
            parser.Parse(chunk, False)
        parser.Parse(b"", True)
    except expat.ExpatError:
        return  # not well-formed: openpyxl reports the damaged file in its own words

"""Reading a delimited text file (.csv, .txt) as offices have them: the encoding detected,
the delimiter sniffed, and nothing decoded by guesswork.

What Windows and Chinese business systems write:

- Excel's "CSV (逗号分隔)" on Chinese Windows and most Chinese systems: GBK, which GB18030
  extends (every GBK file decodes as GB18030, so GB18030 is what is used for both);
- Excel's "CSV UTF-8": UTF-8 with a byte-order mark; other tools: UTF-8 without one;
- Excel's "Unicode 文本" (.txt): UTF-16 little-endian with a byte-order mark, tab-separated.

Detection (``detect_encoding``): a byte-order mark decides; otherwise the file must decode
as UTF-8 from its first byte to its last, else as GB18030. Bytes that decode in neither
fail the file; so does a file that is UTF-8 up to some point and not after it, or whose
GB18030 reading would turn runs of UTF-8 Chinese into other characters (two encodings in
one file): importing it would store mojibake (乱码) under customers' names. A user who
knows better names the encoding (``ENCODINGS``), and the file is then decoded strictly in
that one. Errors name the line where decoding failed.

The delimiter (comma, tab or semicolon) is the one the header line uses most, outside
quotes (``sniff_delimiter``). Rows are numbered as Excel numbers them when it opens the file.
"""

from __future__ import annotations

import codecs
import csv
import re
from collections.abc import Iterator
from pathlib import Path

# Encodings a user may choose, by codec name, with how the review names them.
ENCODINGS = {
    "utf-8": "UTF-8",
    "gb18030": "GB18030（含 GBK、GB2312）",
    "utf-16": "UTF-16（Excel“Unicode 文本”）",
    "big5": "Big5（繁体中文）",
}
DELIMITERS = {",": "逗号", "\t": "制表符", ";": "分号"}

_CHUNK = 1 << 20
# Non-ASCII bytes read as UTF-8 before a byte that is not: this many and more, and the file
# is UTF-8 with foreign bytes in it, not a GB18030 file that began like UTF-8 by chance
# (about one GBK character in five is also a valid two-byte UTF-8 sequence; eight in a row,
# 16 bytes, happen in about one file in a million).
_UTF8_BYTES_BEFORE_FAILURE = 16
_NON_ASCII = bytes(range(0x80, 0x100))
# Four UTF-8 Chinese characters in a row inside a file read as GB18030: the file mixes
# encodings (in GBK text such a run occurs about once in 10,000 MB).
_UTF8_CHINESE_RUN = re.compile(rb"(?:[\xe4-\xe9][\x80-\xbf]{2}){4}")


class UndecodableText(ValueError):
    """The file is not text in a known encoding; ``message`` is Chinese, for the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _line_of(path: Path, offset: int) -> int:
    """The line (1-based) holding byte ``offset``: newlines before it, plus one."""
    lines, read = 1, 0
    with path.open("rb") as f:
        while read < offset:
            chunk = f.read(min(_CHUNK, offset - read))
            if not chunk:
                break
            lines += chunk.count(b"\n")
            read += len(chunk)
    return lines


def _first_failure(path: Path, encoding: str) -> tuple[int, int] | None:
    """(byte offset, non-ASCII bytes read before it) of the first byte ``encoding`` cannot
    decode, or None when the whole file decodes."""
    decoder = codecs.getincrementaldecoder(encoding)()
    offset = non_ascii = 0
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            try:
                decoder.decode(chunk, final=False)
            except UnicodeDecodeError as exc:
                return offset + exc.start, non_ascii + _count_non_ascii(chunk[: exc.start])
            non_ascii += _count_non_ascii(chunk)
            offset += len(chunk)
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return offset, non_ascii
    return None


def _count_non_ascii(data: bytes) -> int:
    return len(data) - len(data.translate(None, _NON_ASCII))


def encoding_label(codec: str) -> str:
    """How the review names a codec: "GB18030（含 GBK、GB2312）", "UTF-8（带 BOM）" …"""
    name = codecs.lookup(codec).name
    if name == "utf-8-sig":
        return "UTF-8（带 BOM）"
    if name.startswith("utf-16"):
        return ENCODINGS["utf-16"]
    return ENCODINGS.get(name, codec.upper())


def _bom_encoding(head: bytes) -> str:
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    return ""


def _has_utf8_chinese_runs(path: Path) -> bool:
    tail = b""
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            if _UTF8_CHINESE_RUN.search(tail + chunk):
                return True
            tail = chunk[-11:]
    return False


def detect_encoding(path: Path) -> str:
    """The codec to read ``path`` with ("utf-8-sig", "utf-16", "utf-8" or "gb18030").

    Raises UndecodableText when the file is binary, mixes encodings or decodes in none.
    """
    with path.open("rb") as f:
        head = f.read(4096)
    bom = _bom_encoding(head)
    if bom:
        check_decodes(path, bom)
        return bom
    if b"\x00" in head:
        # UTF-16 without a byte-order mark (every other byte of ASCII text is zero), or binary.
        for encoding in ("utf-16-le", "utf-16-be"):
            if _first_failure(path, encoding) is None and _looks_like_text(path, encoding):
                return encoding
        raise UndecodableText("文件内容不是文本，也不是 Excel 工作簿，无法导入")
    failure = _first_failure(path, "utf-8")
    if failure is None:
        return "utf-8"
    offset, non_ascii = failure
    if non_ascii >= _UTF8_BYTES_BEFORE_FAILURE:
        raise UndecodableText(
            f"文件前面是 UTF-8 编码，从第 {_line_of(path, offset)} 行起却有无法按 UTF-8 读取的内容"
            "（一个文件里混用了两种编码）：请用 Excel 打开后另存为“CSV UTF-8”或 .xlsx 再上传"
        )
    failure = _first_failure(path, "gb18030")
    if failure is not None:
        raise UndecodableText(
            f"无法识别文件的编码：第 {_line_of(path, failure[0])} 行既不是 UTF-8 也不是 GBK/GB18030 编码。"
            "请用 Excel 打开后另存为“CSV UTF-8”或 .xlsx 再上传，或在上传时选择文件的编码"
        )
    if _has_utf8_chinese_runs(path):
        raise UndecodableText(
            "文件中同时有 GBK 和 UTF-8 编码的中文（按任一种读取都会出现乱码）："
            "请用 Excel 打开后另存为“CSV UTF-8”或 .xlsx 再上传"
        )
    return "gb18030"


def _looks_like_text(path: Path, encoding: str) -> bool:
    with path.open(encoding=encoding, newline="") as f:
        sample = f.read(2000)
    return all(ch.isprintable() or ch in "\r\n\t" for ch in sample)


def check_decodes(path: Path, encoding: str) -> None:
    """Raise UndecodableText naming the first line ``encoding`` cannot decode."""
    failure = _first_failure(path, encoding)
    if failure is not None:
        raise UndecodableText(
            f"按 {encoding_label(encoding)} 编码无法读取第 {_line_of(path, failure[0])} 行（文件可能是其他编码）："
            "请选择正确的编码，或用 Excel 另存为“CSV UTF-8”或 .xlsx 后再上传"
        )


def sniff_delimiter(lines: list[str]) -> str:
    """The delimiter of the file's first lines (the header, and a title above it): tab,
    comma or semicolon, whichever one line uses most outside quotes; a comma when none is
    used (a file of one column)."""
    best = dict.fromkeys(DELIMITERS, 0)
    for line in lines:
        counts = dict.fromkeys(DELIMITERS, 0)
        quoted = False
        for ch in line:
            if ch == '"':
                quoted = not quoted
            elif not quoted and ch in counts:
                counts[ch] += 1
        for delimiter, count in counts.items():
            best[delimiter] = max(best[delimiter], count)
    chosen = max(("\t", ",", ";"), key=lambda d: best[d])  # ties: tab, then comma
    return chosen if best[chosen] else ","


def first_lines(path: Path, encoding: str, count: int = 10) -> list[str]:
    """The first ``count`` lines with a visible character (the header, a title above it)."""
    lines: list[str] = []
    with path.open(encoding=encoding, newline="") as f:
        for line in f:
            if line.strip():
                lines.append(line)
                if len(lines) == count:
                    break
    return lines


def iter_rows(path: Path, *, encoding: str, delimiter: str, max_columns: int) -> Iterator[tuple[int, list[str]]]:
    """(line, cells) of every row with a value, numbered as Excel numbers the file's rows.

    Raises UndecodableText for bytes ``encoding`` cannot decode, a row with more than
    ``max_columns`` cells, or a cell over csv's field size limit (128 K characters).
    """
    with path.open(encoding=encoding, newline="") as f:
        reader = csv.reader(f, delimiter=delimiter)
        line = 0
        try:
            for line, row in enumerate(reader, start=1):
                if len(row) > max_columns:
                    raise UndecodableText(f"第 {line} 行有 {len(row):,} 列，超过 {max_columns} 列的上限，请检查文件")
                while row and not row[-1].strip():
                    row.pop()
                if row:
                    yield line, row
        except UnicodeDecodeError as exc:
            raise UndecodableText(
                f"按 {encoding_label(encoding)} 编码无法读取第 {line + 1} 行（文件可能是其他编码）：请选择正确的编码，"
                "或用 Excel 另存为“CSV UTF-8”或 .xlsx 后再上传"
            ) from exc
        except csv.Error as exc:
            raise UndecodableText(f"第 {line + 1} 行的格式无法识别（引号不配对或单元格过长），请检查文件") from exc

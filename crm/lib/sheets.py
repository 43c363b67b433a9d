"""Reading an untrusted Excel file (.xlsx or legacy .xls): checks first, then the cells of
its first visible worksheet, read in a child process with memory and CPU limits.

Three defences, each against a file that is cheap to make and expensive to open:

1. ``check_zip`` (.xlsx): the archive must start at its first byte and end at its last
   (a file that is an image, a web page or a script as well as a zip — a polyglot — is
   refused), use only the compression Excel uses, and unpack to at most ``max_unpacked``
   bytes. The sizes are measured by inflating every member, not read from its headers,
   which the file's author writes: a member that inflates to more than it declares is
   refused as soon as it does. A 2.4 MB file that unpacks to 950 MB is refused after
   inflating its declared sizes' worth at most, without being parsed.
2. ``iter_sheet_rows`` runs python-calamine in a child process (``python -I -m`` this
   file) with an address-space limit and a CPU-time limit. Calamine builds a dense grid
   over the used range before it returns a single cell, sized by the farthest cell: a
   6 KB .xlsx with one cell at XFD1048576 asks for 512 GB, and Rust aborts the process
   when an allocation fails — in the web server, every request of that worker with it.
   In the child, the limit turns that into an error answer in milliseconds. The same holds
   for .xls, whose records cannot be checked beforehand.
3. The child sends the rows in batches through a pipe and the caller keeps what it needs,
   so no process holds the file's cells twice; the grid's size (rows × columns) is checked
   against ``max_cells`` before the first row is sent.

Rows come as (line, cells): the line is the one Excel shows (the first row is line 1),
rows with no value are left out, trailing empty cells are trimmed. Cell values are str,
int, float, bool, date, datetime, time or timedelta; the pipe carries them as a pickle
that the caller loads with an unpickler that knows no other classes.
"""

from __future__ import annotations

import datetime
import io
import os
import pickle
import struct
import subprocess
import sys
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

# Rows per message from the child.
BATCH_ROWS = 2000
# Bytes inflated per step when measuring an archive's members.
_INFLATE_STEP = 1 << 20
_LOCAL_HEADER = struct.Struct("<4s5H3L2H")
_END_RECORD = struct.Struct("<4s4H2LH")
_ZIP_STORED, _ZIP_DEFLATED = 0, 8


class UnreadableSheet(ValueError):
    """The file cannot or must not be read; ``message`` says why, in Chinese, for the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# ---------------------------------------------------------------- the archive (.xlsx)


def check_zip(path: Path, *, max_unpacked: int, max_members: int = 1000) -> list[str]:
    """Check an .xlsx archive before any reader opens it; return its member names.

    Refused (UnreadableSheet): data before the archive or after its end record (a
    polyglot), encrypted members or another compression than Excel's, more than
    ``max_members`` members, members unpacking to more than ``max_unpacked`` bytes in all,
    or to another size than the archive declares for them.
    """
    size = path.stat().st_size
    with path.open("rb") as f:
        if f.read(4) != b"PK\x03\x04":
            raise UnreadableSheet("文件内容不是 Excel 工作簿（.xlsx），可能已损坏或格式不对")
        entries, directory_start = _read_end_record(f, size)
        members = _read_directory(f, entries, directory_start)
        if len(members) > max_members:
            raise UnreadableSheet("Excel 文件中的部件过多，不像是正常的工作簿，已拒绝")
        declared = sum(member[3] for member in members)
        if declared > max_unpacked:
            raise _too_big(max_unpacked)
        # Member after member from the first byte to the directory: nothing hidden between them.
        expected = 0
        for name, offset, compressed, unpacked, method, flags in sorted(members, key=lambda m: m[1]):
            if flags & 0x1:
                raise UnreadableSheet("Excel 文件已加密：请在 Excel 中取消密码后另存，再上传")
            if method not in (_ZIP_STORED, _ZIP_DEFLATED):
                raise UnreadableSheet("Excel 文件使用了不支持的压缩方式，请在 Excel 中另存为 .xlsx 后再上传")
            if offset != expected:
                raise _smuggled()
            expected = _member_end(f, name, offset, compressed, unpacked, method, flags)
        if expected != directory_start:
            raise _smuggled()
    return [member[0] for member in members]


def _smuggled() -> UnreadableSheet:
    return UnreadableSheet("文件中除 Excel 工作簿外还夹带了其他内容（可能是伪装的文件），已拒绝")


def _too_big(limit: int) -> UnreadableSheet:
    return UnreadableSheet(
        f"Excel 文件解压后超过 {limit // (1024 * 1024)} MB（可能含有大量空白格式或是恶意构造的文件），"
        "请删除多余的工作表、行和格式后再上传"
    )


def _read_end_record(f: IO[bytes], size: int) -> tuple[int, int]:
    """(number of entries, where the central directory starts) from the end record, which
    must close the file. Excel writes no archive comment, the classic place to hide a
    second file's content, so there must be none."""
    tail_size = min(size, _END_RECORD.size + 0xFFFF)
    f.seek(size - tail_size)
    tail = f.read(tail_size)
    at = tail.rfind(b"PK\x05\x06")
    if at < 0:
        raise UnreadableSheet("Excel 文件已损坏（压缩包不完整），无法打开")
    _sig, disk, first_disk, disk_entries, entries, dir_size, dir_offset, comment = _END_RECORD.unpack_from(tail, at)
    end_offset = size - tail_size + at
    if comment or at + _END_RECORD.size != len(tail) or dir_offset + dir_size != end_offset:
        raise _smuggled()
    if disk or first_disk or disk_entries != entries or 0xFFFF in (entries, disk_entries):
        raise UnreadableSheet("Excel 文件的压缩格式不受支持，请在 Excel 中另存为 .xlsx 后再上传")
    return entries, dir_offset


def _read_directory(f: IO[bytes], entries: int, offset: int) -> list[tuple[str, int, int, int, int, int]]:
    """(name, local header offset, compressed size, declared size, method, flags) per member."""
    f.seek(offset)
    members = []
    for _ in range(entries):
        fixed = f.read(46)
        if len(fixed) != 46 or fixed[:4] != b"PK\x01\x02":
            raise UnreadableSheet("Excel 文件已损坏（目录不完整），无法打开")
        flags, method = struct.unpack_from("<2H", fixed, 8)
        compressed, unpacked = struct.unpack_from("<2L", fixed, 20)
        name_len, extra_len, comment_len = struct.unpack_from("<3H", fixed, 28)
        (local,) = struct.unpack_from("<L", fixed, 42)
        name = f.read(name_len).decode("utf-8", "replace")
        f.seek(extra_len + comment_len, io.SEEK_CUR)
        if 0xFFFFFFFF in (compressed, unpacked, local):
            raise UnreadableSheet("Excel 文件的压缩格式不受支持，请在 Excel 中另存为 .xlsx 后再上传")
        members.append((name, local, compressed, unpacked, method, flags))
    if not members:
        raise UnreadableSheet("Excel 文件已损坏（目录不完整），无法打开")
    return members


def _member_end(f: IO[bytes], name: str, offset: int, compressed: int, declared: int, method: int, flags: int) -> int:
    """Inflate one member from its raw bytes and return where it ends in the file; refuse
    it as soon as it inflates to more than ``declared``, or when it does not fill it."""
    f.seek(offset)
    header = f.read(_LOCAL_HEADER.size)
    if len(header) != _LOCAL_HEADER.size or header[:4] != b"PK\x03\x04":
        raise UnreadableSheet("Excel 文件已损坏（压缩包不完整），无法打开")
    name_len: int
    extra_len: int
    name_len, extra_len = _LOCAL_HEADER.unpack(header)[-2:]
    start = offset + _LOCAL_HEADER.size + name_len + extra_len
    f.seek(start)
    if method == _ZIP_STORED:
        real = compressed
    else:
        inflater = zlib.decompressobj(-15)
        real, left, data = 0, compressed, b""
        try:
            while not inflater.eof and real <= declared:
                if not data:
                    if left <= 0:
                        break
                    data = f.read(min(left, _INFLATE_STEP))
                    left -= len(data)
                    if not data:
                        break
                real += len(inflater.decompress(data, _INFLATE_STEP))
                data = inflater.unconsumed_tail
            if real <= declared and not inflater.eof:
                real += len(inflater.flush())  # the rest of the last block: a few bytes
        except zlib.error as exc:
            raise UnreadableSheet("Excel 文件已损坏（数据无法解压），无法打开") from exc
    if real != declared:
        raise UnreadableSheet(f"Excel 文件已损坏或被改动过（“{name}”的实际大小与声明不符），已拒绝")
    end = start + compressed
    if flags & 0x8:  # a data descriptor follows the data: 12 bytes, 16 with its signature
        f.seek(end)
        end += 16 if f.read(4) == b"PK\x07\x08" else 12
    return end


# ---------------------------------------------------------------- the worksheet, in a child


def iter_sheet_rows(
    path: Path, *, max_cells: int, memory_bytes: int, cpu_seconds: int
) -> Iterator[tuple[int, list[Any]]]:
    """(line, cells) of every row with a value on the file's first visible worksheet.

    The first item is (0, [sheet name]). Raises UnreadableSheet when the file is not a
    workbook calamine can read, is password-protected, has no worksheet, or when its grid
    exceeds ``max_cells`` or the child its limits.
    """
    command = [
        sys.executable,
        "-I",  # isolated: no PYTHON* variables, user site, or script and current directory on the path
        __file__,  # this file alone: the child imports only the standard library and calamine
        str(path),
        str(max_cells),
        str(memory_bytes),
        str(cpu_seconds),
    ]
    env = {"PATH": os.environ.get("PATH", "")}
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
    assert child.stdout is not None
    try:
        while True:
            try:
                # One unpickler per message: each message is a pickle with its own memo.
                message = _RowUnpickler(child.stdout).load()
            except EOFError:
                break
            kind, payload = message
            if kind == "rows":
                yield from payload
            elif kind == "error":
                raise UnreadableSheet(_CHILD_ERRORS.get(payload[0], _CHILD_ERRORS["broken"]).format(*payload[1:]))
            elif kind == "end":
                return
        child.wait()
        raise UnreadableSheet(_ended_why(child.returncode))
    finally:
        if child.poll() is None:
            child.kill()
        child.wait()
        child.stdout.close()


def _ended_why(returncode: int) -> str:
    """The child ended without its closing message: a limit ended it, or the file crashed it."""
    if returncode in (-6, -9, -24, 1):  # SIGABRT (allocation failed), SIGKILL, SIGXCPU, MemoryError
        return "文件中的表格范围过大（可能含有相距很远的单元格，或是恶意构造的文件），无法读取：请只保留需要导入的数据后再上传"
    return _CHILD_ERRORS["broken"]


_CHILD_ERRORS = {
    "password": "Excel 文件设置了密码：请在 Excel 中取消密码后另存，再上传",
    "broken": "无法读取该 Excel 文件，文件可能已损坏或已加密",
    "no_sheet": "文件中没有工作表",
    "too_many_cells": "表格过大：第一个工作表有 {0:,} 行 × {1:,} 列，超出单次导入的上限，请删除多余的行和列或拆分后分批导入",
}


class _RowUnpickler(pickle.Unpickler):
    """Loads only what the child sends: containers, text, numbers and datetime values."""

    ALLOWED = {("datetime", name) for name in ("date", "datetime", "time", "timedelta")}

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in self.ALLOWED:
            return getattr(datetime, name)
        raise pickle.UnpicklingError(f"{module}.{name} is not expected from the sheet reader")


def _child_main(
    path: str, max_cells: int, memory_bytes: int, cpu_seconds: int
) -> None:  # pragma: no cover - in the child
    """The child: limits first, then calamine, then the rows in batches on stdout."""
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds))
    out = sys.stdout.buffer

    def send(kind: str, payload: Any) -> None:
        pickle.dump((kind, payload), out, protocol=pickle.HIGHEST_PROTOCOL)

    from python_calamine import CalamineWorkbook, PasswordError, SheetTypeEnum, SheetVisibleEnum

    try:
        workbook = CalamineWorkbook.from_path(path)
    except PasswordError:
        send("error", ("password",))
        return
    except Exception:  # calamine raises several error types for broken files
        send("error", ("broken",))
        return
    with workbook:
        index = next(
            (
                i
                for i, meta in enumerate(workbook.sheets_metadata)
                if meta.typ == SheetTypeEnum.WorkSheet and meta.visible == SheetVisibleEnum.Visible
            ),
            None,
        )
        if index is None:
            send("error", ("no_sheet",))
            return
        try:
            sheet = workbook.get_sheet_by_index(index)
        except PasswordError:
            send("error", ("password",))
            return
        except Exception:
            send("error", ("broken",))
            return
        height, width = sheet.total_height + 1, sheet.total_width + 1
        if height * width > max_cells:
            send("error", ("too_many_cells", height, width))
            return
        send("rows", [(0, [sheet.name])])
        batch: list[tuple[int, list[Any]]] = []
        try:
            for line, row in enumerate(sheet.iter_rows(), start=1):
                while row and (row[-1] == "" or row[-1] is None):
                    row.pop()
                if row:
                    batch.append((line, row))
                    if len(batch) >= BATCH_ROWS:
                        send("rows", batch)
                        batch = []
        except Exception:
            send("error", ("broken",))
            return
        send("rows", batch)
        send("end", None)
    out.flush()


if __name__ == "__main__":  # pragma: no cover - the child process
    _child_main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))

"""Is a finished media file whole? A cheap check for files that were cut short.

An origin may close the connection early while its ``Content-Length`` matches what it sent, and
an MP4 whose index (``moov``) comes first then probes as fine in ffprobe: the duration, the
streams, everything is in the index, and only the last seconds are missing. So the structure is
checked against the file's length, reading headers and table tails only (never the media data):

- MP4/MOV: every top-level box must end within the file, and so must each track's last chunk
  (its offset from ``stco``/``co64`` plus the sizes of its samples from ``stsc``/``stsz``).
  Fragmented files have empty tables; their ``moof``/``mdat`` boxes are covered by the first
  rule.
- Matroska/WebM: the Segment must end within the file when its size is declared; when it is
  not (a live muxer's output), each top-level element of the Segment with a declared size must.

Other formats are not checked here (ffprobe still is).
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import BinaryIO

from clipmill.errors import BrokenMedia

_MP4_FIRST_BOXES = frozenset(
    {b"ftyp", b"styp", b"moov", b"mdat", b"free", b"skip", b"wide", b"pnot", b"uuid"}
)
_EBML_MAGIC = b"\x1a\x45\xdf\xa3"
_SEGMENT_ID = 0x18538067
_MAX_ELEMENTS = 1_000_000  # a bound on the walk; real files have far fewer top-level boxes
_MAX_CHUNK_SAMPLES = 1_000_000


def check_complete(path: Path) -> None:
    """Raise BrokenMedia when ``path`` (MP4/MOV or Matroska/WebM) is cut short or malformed."""
    with path.open("rb") as fh:
        size = fh.seek(0, 2)
        head = _read_at(fh, 0, 8)
        if len(head) == 8 and head[4:8] in _MP4_FIRST_BOXES:
            _Mp4(fh, size).check()
        elif head[:4] == _EBML_MAGIC:
            _check_matroska(fh, size)


def _read_at(fh: BinaryIO, offset: int, length: int) -> bytes:
    fh.seek(offset)
    return fh.read(length)


def _cut_short(size: int, what: str, end: int) -> BrokenMedia:
    return BrokenMedia(
        f"The media file is cut short: it has {size:,} bytes, but {what} runs to byte {end:,}."
    )


# --- MP4 / MOV -------------------------------------------------------------------------------


class _Mp4:
    """Box walk over one open MP4/MOV file of ``size`` bytes.

    Only the top level and the tables' reach are held against the file's length; oddities
    inside ``moov`` that players put up with (a trailing zero word in a container, a table
    shorter than its count) end the walk of that part instead of failing the file.
    """

    def __init__(self, fh: BinaryIO, size: int) -> None:
        self.fh, self.size = fh, size

    def check(self) -> None:
        top = self._boxes(0, self.size, strict=True)
        moov = next(((start, end) for kind, start, end in top if kind == b"moov"), None)
        if moov is None:
            if any(kind in (b"moof", b"meta") for kind, _, _ in top):
                return  # fragments only (the init segment is elsewhere), or an AVIF/HEIF image
            raise BrokenMedia("The media file has no index (moov box); it is incomplete.")
        tracks = [(start, end) for kind, start, end in self._boxes(*moov) if kind == b"trak"]
        for number, (start, end) in enumerate(tracks, start=1):
            self._check_track(number, start, end)

    def _boxes(self, start: int, end: int, *, strict: bool = False) -> list[tuple[bytes, int, int]]:
        """(type, payload start, box end) of the boxes from ``start`` to ``end``."""
        found: list[tuple[bytes, int, int]] = []
        offset = start
        while offset < end and len(found) < _MAX_ELEMENTS:
            try:
                box = self._box_at(offset, end)
            except BrokenMedia:
                if strict and not self._is_padding(offset, end):
                    raise
                break
            found.append(box)
            offset = box[2]
        return found

    def _is_padding(self, offset: int, end: int) -> bool:
        """A few zero bytes after the last box, shorter than a box header: padding."""
        return end - offset < 8 and not any(_read_at(self.fh, offset, end - offset))

    def _box_at(self, offset: int, end: int) -> tuple[bytes, int, int]:
        header = _read_at(self.fh, offset, min(16, end - offset))
        if len(header) < 8:
            raise _cut_short(self.size, "a box header", offset + 8)
        box_size, kind = struct.unpack(">I4s", header[:8])
        payload = offset + 8
        if box_size == 1:  # a 64-bit size follows the type
            if len(header) < 16:
                raise _cut_short(self.size, "a box header", offset + 16)
            (box_size,) = struct.unpack(">Q", header[8:16])
            payload = offset + 16
        elif box_size == 0:  # runs to the end of its container
            box_size = end - offset
        if box_size < payload - offset:
            raise BrokenMedia(f"The media file has a malformed {_name(kind)} box.")
        if offset + box_size > end:
            raise _cut_short(self.size, f"its {_name(kind)} box", offset + box_size)
        return kind, payload, offset + box_size

    def _child(self, start: int, end: int, *path: bytes) -> tuple[int, int] | None:
        """Payload (start, end) of the box at ``path`` below a container, if there is one."""
        for kind, child_start, child_end in self._boxes(start, end):
            if kind == path[0]:
                if len(path) == 1:
                    return child_start, child_end
                return self._child(child_start, child_end, *path[1:])
        return None

    def _check_track(self, number: int, start: int, end: int) -> None:
        stbl = self._child(start, end, b"mdia", b"minf", b"stbl")
        if stbl is None:
            return
        tables = {kind: (s, e) for kind, s, e in self._boxes(*stbl)}
        chunk = self._last_chunk(tables)
        if chunk is None:
            return  # no samples here (fragmented files keep them in moof boxes)
        chunk_count, offset = chunk
        chunk_end = offset + self._last_chunk_bytes(tables, chunk_count)
        if chunk_end > self.size:
            raise _cut_short(self.size, f"track {number}'s last chunk of samples", chunk_end)

    def _count(self, box: tuple[int, int], fixed: int, entry: int) -> int | None:
        """Entries of a full box's table (``fixed`` bytes between the count and the entries);
        None when the box is too short for them."""
        start, end = box
        raw = _read_at(self.fh, start + 4, 4)
        if len(raw) < 4:
            return None
        (count,) = struct.unpack(">I", raw)
        return int(count) if start + 8 + fixed + count * entry <= end else None

    def _last_chunk(self, tables: dict[bytes, tuple[int, int]]) -> tuple[int, int] | None:
        """(number of chunks, file offset of the last chunk) from stco or co64."""
        for kind, width, fmt in ((b"stco", 4, ">I"), (b"co64", 8, ">Q")):
            if kind in tables:
                count = self._count(tables[kind], 0, width)
                if not count:
                    return None
                raw = _read_at(self.fh, tables[kind][0] + 8 + (count - 1) * width, width)
                return count, int(struct.unpack(fmt, raw)[0])
        return None

    def _last_chunk_bytes(self, tables: dict[bytes, tuple[int, int]], chunk_count: int) -> int:
        """Bytes of the samples in the last chunk (0 when the tables do not say)."""
        if b"stsc" not in tables or b"stsz" not in tables:
            return 0  # e.g. stz2 (compact sizes): the chunk's offset alone is checked
        stsc = tables[b"stsc"]
        entries = self._count(stsc, 0, 12)
        if not entries:
            return 0
        first_chunk, per_chunk, _ = struct.unpack(
            ">III", _read_at(self.fh, stsc[0] + 8 + (entries - 1) * 12, 12)
        )
        stsz_start, stsz_end = tables[b"stsz"]
        raw = _read_at(self.fh, stsz_start + 4, 8)
        if first_chunk > chunk_count or len(raw) < 8:
            return 0
        uniform, samples = struct.unpack(">II", raw)
        last = min(per_chunk, samples, _MAX_CHUNK_SAMPLES)
        if uniform:
            return int(uniform) * last
        if stsz_start + 12 + samples * 4 > stsz_end:
            return 0
        sizes = _read_at(self.fh, stsz_start + 12 + (samples - last) * 4, last * 4)
        return sum(struct.unpack(f">{last}I", sizes))


def _name(kind: bytes) -> str:
    return "'" + kind.decode("latin-1") + "'"


# --- Matroska / WebM -------------------------------------------------------------------------


def _check_matroska(fh: BinaryIO, size: int) -> None:
    _, _, header_end = _element(fh, 0, size)  # the EBML header
    if header_end is None:
        raise BrokenMedia("The Matroska file has a malformed header.")
    element_id, data, end = _element(fh, header_end, size)
    if element_id != _SEGMENT_ID:
        raise BrokenMedia("The Matroska file has no Segment after its header.")
    if end is not None:
        if end > size:
            raise _cut_short(size, "its Segment", end)
        return
    # a Segment of unknown size: walk its elements while they declare theirs
    offset, walked = data, 0
    while offset < size and walked < _MAX_ELEMENTS:
        _, data, end = _element(fh, offset, size)
        if end is None:
            return  # e.g. a live muxer's Cluster: nothing more to measure
        if end > size:
            raise _cut_short(size, "its last element", end)
        offset, walked = end, walked + 1


def _element(fh: BinaryIO, offset: int, size: int) -> tuple[int, int, int | None]:
    """(id, data start, data end or None for an unknown size) of the element at ``offset``."""
    raw = _read_at(fh, offset, 12)
    element_id, id_length = _vint(raw, 0, keep_marker=True, most=4)
    length, size_length = _vint(raw, id_length, keep_marker=False, most=8)
    data = offset + id_length + size_length
    if data > size:
        raise _cut_short(size, "an element header", data)
    unknown = length == (1 << (7 * size_length)) - 1
    return element_id, data, None if unknown else data + length


def _vint(raw: bytes, at: int, *, keep_marker: bool, most: int) -> tuple[int, int]:
    """An EBML variable-length integer at ``raw[at:]``: (value, length in bytes)."""
    if at >= len(raw) or raw[at] == 0:
        raise BrokenMedia("The Matroska file has a malformed element header.")
    length = 8 - raw[at].bit_length() + 1
    if length > most or at + length > len(raw):
        raise BrokenMedia("The Matroska file has a malformed element header.")
    value = int.from_bytes(raw[at : at + length], "big")
    if not keep_marker:
        value &= (1 << (7 * length)) - 1
    return value, length

"""Real image files, good and hostile, made in memory for the upload tests."""

from __future__ import annotations

import io
import random
import struct
import zipfile
import zlib

from PIL import Image, PngImagePlugin

from tests.factories import jpeg_bytes


def noisy(size: tuple[int, int] = (800, 600), seed: int = 1) -> Image.Image:
    """Return an image of random pixels, which compresses badly, as a real photo does."""
    rnd = random.Random(seed)
    return Image.frombytes("RGB", size, rnd.randbytes(size[0] * size[1] * 3))


def encode(img: Image.Image, fmt: str, **params: object) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **params)
    return buf.getvalue()


def truncated_jpeg() -> bytes:
    data = encode(noisy(), "JPEG", quality=90)
    return data[: len(data) * 6 // 10]


def corrupt_png() -> bytes:
    """A PNG whose compressed pixels were damaged in transit, chunk CRCs still correct."""
    data = bytearray(encode(noisy((300, 200)), "PNG"))
    start = data.index(b"IDAT") + 4
    data[start + 100 : start + 400] = bytes(300)
    # recompute the chunk CRC, so that only a full decode notices the damage
    length = struct.unpack(">I", data[start - 8 : start - 4])[0]
    crc = zlib.crc32(bytes(data[start - 4 : start + length]))
    data[start + length : start + length + 4] = struct.pack(">I", crc)
    return bytes(data)


def png_bomb(width: int = 7000, height: int = 7000) -> bytes:
    """A small PNG with a huge canvas (49 MP by default): cheap to send, costly to decode."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    rows = zlib.compressobj(9)
    # one zero row, repeated, deflates to almost nothing
    row = bytes(1 + width * 3)
    body = b"".join(rows.compress(row) for _ in range(height)) + rows.flush()
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", body) + _chunk(b"IEND")


def jpeg_bomb(width: int = 60000, height: int = 60000) -> bytes:
    """A tiny JPEG whose frame header claims a huge size."""
    data = bytearray(jpeg_bytes((16, 16)))
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def _chunk(kind: bytes, payload: bytes = b"") -> bytes:
    crc = zlib.crc32(kind + payload)
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)


def svg() -> bytes:
    return b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'


def gif() -> bytes:
    return encode(Image.new("P", (20, 20)), "GIF")


def html() -> bytes:
    return b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"


def zip_file() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("payload.html", "<script>alert(1)</script>")
    return buf.getvalue()


def jpeg_zip_polyglot() -> bytes:
    """A valid JPEG with a ZIP archive appended: image viewers and unzip both open it."""
    return jpeg_bytes() + zip_file()


def jpeg_html_polyglot() -> bytes:
    """A valid JPEG whose comment is an HTML page, run by a browser that sniffs it."""
    return encode(Image.new("RGB", (64, 64), "red"), "JPEG", comment=html())


HOSTILE = {
    "zero-byte": b"",
    "truncated-jpeg": truncated_jpeg,
    "corrupt-png": corrupt_png,
    "png-bomb": png_bomb,
    "jpeg-bomb": jpeg_bomb,
    "svg": svg,
    "gif": gif,
    "html": html,
    "zip": zip_file,
    "jpeg-zip-polyglot": jpeg_zip_polyglot,
    "jpeg-html-polyglot": jpeg_html_polyglot,
}


def hostile(name: str) -> bytes:
    made = HOSTILE[name]
    return made if isinstance(made, bytes) else made()


def mpo() -> bytes:
    """A multi-picture JPEG as phone cameras write it (two frames)."""
    first, second = Image.new("RGB", (640, 480), "green"), Image.new("RGB", (640, 480), "blue")
    return encode(first, "MPO", save_all=True, append_images=[second])


def webp() -> bytes:
    return encode(noisy((400, 300)), "WEBP", quality=80)


def png_with_text(text: str) -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", text)
    info.add_text("Author", text)
    return encode(noisy((400, 300)), "PNG", pnginfo=info)


def jpeg_with_comment(text: str, *, gps: bool = True) -> bytes:
    with Image.open(io.BytesIO(jpeg_bytes((900, 600), gps=gps))) as img:
        exif = img.getexif()
        return encode(img, "JPEG", comment=text.encode(), exif=exif)

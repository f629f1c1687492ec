"""Benchmark the photo pipeline on 12 MP phone photos against a bare Pillow loop.

Both sides run in the same process on the same files, one after the other, for the same
number of rounds:

- the pipeline: `media.service.make_derivatives` (the media-queue job's work: draft decode,
  EXIF orientation, sRGB, metadata-free copy, display and thumbnail JPEGs written to disk);
- the bare loop: Image.open, draft, exif_transpose, thumbnail, save (display and thumbnail,
  same sizes and JPEG settings), with none of the checks.

It also times the upload check (`media.validation.check_photo_bytes`, the full bounded
decode done on the request path), which the bare loop has no counterpart for.

    .venv/bin/python bench/photos.py --photos 8 --rounds 3

It prints figures only; it asserts nothing.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image, ImageOps

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SIZE = (4032, 3024)  # 12 MP, as most phone cameras write


def phone_photo(seed: int) -> bytes:
    """Return a 12 MP JPEG with texture, GPS tags and a 'turned camera' orientation."""
    width, height = SIZE
    noise = Image.effect_noise(SIZE, 60 + seed)
    horizontal = Image.linear_gradient("L").resize(SIZE)
    vertical = Image.linear_gradient("L").rotate(90).resize(SIZE)
    img = Image.merge("RGB", (noise, horizontal, vertical))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif[0x0112] = 6
    exif[0x8825] = {1: "N", 2: (42.0, 19.0, 12.0), 3: "W", 4: (71.0, 4.0, 48.0)}
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=88, exif=exif)
    return buf.getvalue()


def bare_loop(originals: list[Path], out: Path) -> None:
    from app.media.service import DERIVATIVES

    for i, src in enumerate(originals):
        with Image.open(src) as img:
            img.draft("RGB", (DERIVATIVES["display"],) * 2)
            upright = ImageOps.exif_transpose(img).convert("RGB")
            for size, longest in DERIVATIVES.items():
                copy = upright.copy()
                copy.thumbnail((longest, longest), Image.Resampling.LANCZOS)
                copy.save(
                    out / f"{i}-{size}.jpg", "JPEG", quality=85, optimize=True, progressive=True
                )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    media_root = Path(tempfile.mkdtemp(prefix="city311-bench-media-"))
    os.environ.setdefault("CITY311_ENV", "development")
    os.environ.setdefault("SECRET_KEY", "bench")
    os.environ["MEDIA_ROOT"] = str(media_root)

    from app import create_app
    from app.media import service
    from app.media.models import Photo
    from app.media.storage import get_storage
    from app.media.validation import check_photo_bytes

    app = create_app()
    print(f"making {args.photos} phone photos of {SIZE[0]}×{SIZE[1]} …", flush=True)
    blobs = [phone_photo(i) for i in range(args.photos)]
    print(f"mean file size {sum(map(len, blobs)) / len(blobs) / 1e6:.1f} MB")

    with app.app_context():
        storage = get_storage()
        photos = []
        originals = []
        for i, data in enumerate(blobs):
            name = f"{i:02d}" + os.urandom(15).hex()
            storage.write(service.original_key(name), data)
            photos.append(Photo(id=i, stored_name=name))
            # the bare loop reads the same bytes from a plain file
            path = media_root / "bare-in" / f"{i}.jpg"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            originals.append(path)
        bare_out = media_root / "bare"
        bare_out.mkdir()

        check = pipeline = bare = 0.0
        for _ in range(args.rounds):
            start = time.perf_counter()
            for data in blobs:
                check_photo_bytes(data)
            check += time.perf_counter() - start

            for p in photos:
                for size in service.DERIVATIVES:
                    storage.delete(service.derivative_key(p.stored_name, size))
            start = time.perf_counter()
            for p in photos:
                service.make_derivatives(p)
            pipeline += time.perf_counter() - start

            start = time.perf_counter()
            bare_loop(originals, bare_out)
            bare += time.perf_counter() - start

    n = args.photos * args.rounds
    print(f"upload check (full bounded decode): {n / check:6.2f} photos/s")
    print(f"pipeline (derivative job):          {n / pipeline:6.2f} photos/s")
    print(f"bare Pillow loop:                   {n / bare:6.2f} photos/s")
    print(f"pipeline / bare loop:               {bare / pipeline:6.2f}×")


if __name__ == "__main__":
    main()

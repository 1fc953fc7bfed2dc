#!/usr/bin/env python
"""Generate icons/app_logo.png (200x72) and icons/company_logo.png (100x100).

Why a script: the SDK's default icons are flagged by `resilient-sdk validate`,
and no imaging library is needed for flat shapes: PNG is zlib + CRC framing.
"""
from __future__ import annotations

import struct
import sys
import zlib
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RGB = tuple[int, int, int]
NAVY, TEAL, WHITE = (16, 42, 84), (0, 150, 160), (240, 244, 248)


def png(width: int, height: int, pixel: Callable[[int, int], RGB]) -> bytes:
    """An 8-bit RGB PNG whose colour at (x, y) is pixel(x, y)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + bytes(c for x in range(width) for c in pixel(x, y)) for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b"")


def ring(cx: float, cy: float, outer: float, inner: float, x: int, y: int) -> bool:
    d2 = (x - cx) ** 2 + (y - cy) ** 2
    return inner * inner <= d2 <= outer * outer


def arrow(x0: int, y0: int, length: int, x: int, y: int) -> bool:
    """A right-pointing arrow: a shaft then a triangular head (command flowing to a device)."""
    if x0 <= x < x0 + length - 12 and abs(y - y0) <= 3:
        return True
    return x0 + length - 12 <= x < x0 + length and abs(y - y0) <= (x0 + length - x)


def app_logo(x: int, y: int) -> RGB:
    if ring(36, 36, 24, 15, x, y) and not (x > 46 and abs(y - 36) < 10):
        return WHITE
    if arrow(72, 36, 56, x, y):
        return TEAL
    if 140 <= x <= 180 and 18 <= y <= 54 and (x in (140, 141, 179, 180) or y in (18, 19, 53, 54) or y % 9 == 0):
        return WHITE
    return NAVY


def company_logo(x: int, y: int) -> RGB:
    if ring(50, 50, 40, 30, x, y):
        return TEAL
    if arrow(28, 50, 46, x, y):
        return NAVY
    return WHITE


def main() -> int:
    icons = ROOT / "icons"
    icons.mkdir(exist_ok=True)
    (icons / "app_logo.png").write_bytes(png(200, 72, app_logo))
    (icons / "company_logo.png").write_bytes(png(100, 100, company_logo))
    print(f"wrote {icons}/app_logo.png and company_logo.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())

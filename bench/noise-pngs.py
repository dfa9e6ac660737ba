"""Writes N distinct seeded RGB noise PNGs (python3 standard library only), for the benchmarks' datasets.
Usage: python3 bench/noise-pngs.py DIR N SIZE [PREFIX]   -> DIR/PREFIX00000.png ... (SIZE x SIZE; image i seeded with i)"""
import os
import random
import struct
import sys
import zlib

out, n, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
prefix = sys.argv[4] if len(sys.argv) > 4 else "img"
os.makedirs(out, exist_ok=True)


def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff)


for i in range(n):
    rng = random.Random(i)
    rows = b"".join(b"\x00" + rng.randbytes(size * 3) for _ in range(size))  # filter byte 0, then one RGB row
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)) \
        + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")
    with open(os.path.join(out, f"{prefix}{i:05d}.png"), "wb") as f:
        f.write(png)

"""PNG encoding of numpy images, so that explain() takes an array without Pillow (a lossless format: the cluster
decodes exactly these pixels)."""

import struct
import zlib

import numpy as np


def encode_png(array) -> bytes:
    """An 8-bit RGB PNG of an (H, W, 3) or (H, W) array: uint8 as is; floats in [0, 1] scaled to 0..255."""
    a = np.asarray(array)
    if a.ndim == 2:
        a = np.stack([a, a, a], axis=-1)
    if a.ndim != 3 or a.shape[2] not in (3, 4):
        raise ValueError(f"an image array is (height, width, 3) RGB; got shape {a.shape}")
    a = a[:, :, :3]
    if a.dtype != np.uint8:
        if np.issubdtype(a.dtype, np.floating):
            a = np.clip(np.rint(a * 255.0), 0, 255)
        a = a.astype(np.uint8)
    height, width = a.shape[:2]
    # Filter type 0 (none) before every row.
    raw = b"".join(b"\x00" + a[y].tobytes() for y in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit, colour type 2 (RGB)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b"")

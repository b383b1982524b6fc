"""Image and id-map encoding."""

from __future__ import annotations

import cv2
import numpy as np

from synthgen.errors import OutputError


def encode_image(rgb: np.ndarray, image_format: str, jpeg_quality: int) -> bytes:
    bgr = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
    if image_format == "jpg":
        ok, buf = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, jpeg_quality])
    else:
        ok, buf = cv2.imencode(".png", bgr, [cv2.IMWRITE_PNG_COMPRESSION, 3])
    if not ok:
        raise OutputError(f"OpenCV could not encode a {image_format} image")
    return buf.tobytes()


def encode_id_map(id_map: np.ndarray) -> bytes:
    """Lossless 16-bit greyscale PNG: ids above 255 survive."""
    ok, buf = cv2.imencode(".png", np.ascontiguousarray(id_map, dtype=np.uint16))
    if not ok:
        raise OutputError("OpenCV could not encode the id map as PNG")
    return buf.tobytes()

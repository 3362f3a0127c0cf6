"""Read an ONNX model's `metadata_props` without onnx or onnxruntime.

The Lifter needs the model's kNN k and max keypoints (docs/interfaces.md: `lfm3d_knn`,
`lfm3d_max_keypoints`, `lfm3d_config`) even when it runs a TensorRT engine on a Jetson
that has neither `onnx` nor `onnxruntime`, so this walks the protobuf wire format of the
top-level `ModelProto` (field 14 = metadata_props, entries key=1/value=2) directly.
"""
from __future__ import annotations

import json
from pathlib import Path

_METADATA_FIELD = 14  # ModelProto.metadata_props


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    value, shift = 0, 0
    while True:
        if pos >= len(buf):
            raise ValueError("truncated varint")
        byte = buf[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos
        shift += 7


def _fields(buf: bytes):
    """Yield (field_number, wire_type, value) of one protobuf message; LEN values as bytes."""
    pos = 0
    while pos < len(buf):
        tag, pos = _varint(buf, pos)
        field, wire = tag >> 3, tag & 7
        if wire == 0:
            value, pos = _varint(buf, pos)
        elif wire == 1:
            value, pos = buf[pos:pos + 8], pos + 8
        elif wire == 2:
            length, pos = _varint(buf, pos)
            value, pos = buf[pos:pos + length], pos + length
        elif wire == 5:
            value, pos = buf[pos:pos + 4], pos + 4
        else:
            raise ValueError(f"unsupported protobuf wire type {wire}")
        if pos > len(buf):
            raise ValueError("truncated protobuf message")
        yield field, wire, value


def read_onnx_metadata(path: str | Path) -> dict[str, str]:
    """Return the ONNX file's metadata_props as {key: value} (strings).

    Raises:
        ValueError: the file is not a readable ONNX protobuf (names the path).
    """
    data = Path(path).read_bytes()
    meta: dict[str, str] = {}
    try:
        for field, wire, value in _fields(data):
            if field == _METADATA_FIELD and wire == 2:
                entry = {f: v for f, w, v in _fields(value) if w == 2}
                meta[entry.get(1, b"").decode()] = entry.get(2, b"").decode()
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: not a valid ONNX model ({exc})") from exc
    return meta


def model_info(path: str | Path) -> dict:
    """Decoded lfm3d metadata of an ONNX model.

    Returns a dict with `knn` (int or None), `max_keypoints` (int or None),
    `version` (str or None), `config` (dict, {} if absent) and `raw` (all props).
    """
    raw = read_onnx_metadata(path)

    def _int(key: str) -> int | None:
        return int(raw[key]) if raw.get(key, "").strip() else None

    try:
        config = json.loads(raw["lfm3d_config"]) if "lfm3d_config" in raw else {}
        knn, max_kp = _int("lfm3d_knn"), _int("lfm3d_max_keypoints")
    except ValueError as exc:
        raise ValueError(f"{path}: malformed lfm3d metadata ({exc})") from exc
    return {"knn": knn, "max_keypoints": max_kp, "version": raw.get("lfm3d_version"),
            "config": config, "raw": raw}

"""CDR bytes of the node's per-point outputs, written with numpy: no Python object per point.

rclpy serialises a message by walking Python objects: one `geometry_msgs/Point` per point,
created in Python and read back attribute by attribute. For 10 people with markers that was
most of the node's time after the network (issue 27). `Publisher.publish` also takes the
serialised bytes, so the node writes them itself: fixed fields with `struct`, each point
array as one float64 block.

Format (what rmw_fastrtps puts on the wire): a 4-byte encapsulation header (00 01 00 00 =
plain CDR, little endian), then the fields in .msg order, each aligned to its own size
(at most 8) counted from the end of that header; a string is a uint32 length (NUL included),
the bytes and the NUL; a sequence is a uint32 count and the elements (aligned only when there
are any). `matches_rclpy` compares these encoders with `rclpy.serialization` for this ROS
distribution's message definitions (visualization_msgs/Marker gained fields in Iron); the
node uses message objects where they differ.
"""

from __future__ import annotations

import struct

import numpy as np

CDR_LE = b"\x00\x01\x00\x00"
_LITTLE_ENDIAN = {code: np.dtype("<" + code) for code in ("f8", "f4", "u2")}
_U32 = struct.Struct("<I")


class CdrWriter:
    """Appends aligned little-endian CDR fields; `getvalue()` gives the message bytes."""

    def __init__(self) -> None:
        self._parts: list[bytes] = [CDR_LE]
        self._pos = 0  # offset in the body (alignment is relative to it)

    def align(self, n: int) -> None:
        """Zero bytes up to the next multiple of `n` (1, 2, 4 or 8)."""
        pad = -self._pos % n
        if pad:
            self._parts.append(b"\0" * pad)
            self._pos += pad

    def raw(self, data: bytes) -> None:
        """Bytes as they are (no alignment)."""
        self._parts.append(data)
        self._pos += len(data)

    def pack(self, fmt: struct.Struct, align: int, *values) -> None:
        """Fields of one struct format (all of alignment <= `align`, laid out without gaps)."""
        self.align(align)
        self.raw(fmt.pack(*values))

    def u32(self, value: int) -> None:
        self.pack(_U32, 4, value)

    def string(self, text: str) -> None:
        data = text.encode() + b"\0"
        self.u32(len(data))
        self.raw(data)

    def array(self, values: np.ndarray, dtype: str) -> None:
        """A sequence of a primitive (or of a struct of equal primitives, e.g. Point = 3 x
        float64): count = len(values), elements as one contiguous little-endian block."""
        a = np.ascontiguousarray(values, dtype=_LITTLE_ENDIAN[dtype])
        self.u32(len(a))
        if a.size:
            self.align(a.dtype.itemsize)
            self.raw(a.tobytes())

    def header(self, stamp_sec: int, stamp_nanosec: int, frame_id: str) -> None:
        """std_msgs/Header: builtin_interfaces/Time (int32, uint32) and frame_id."""
        self.pack(_TIME, 4, stamp_sec, stamp_nanosec)
        self.string(frame_id)

    def getvalue(self) -> bytes:
        return b"".join(self._parts)


_TIME = struct.Struct("<iI")
_I32 = struct.Struct("<i")
_MARKER_IDS = struct.Struct("<iii")                 # id, type, action
_MARKER_POSE_SCALE = struct.Struct("<10d")          # position 3, orientation 4, scale 3
_MARKER_COLOUR_LIFE = struct.Struct("<4fiI?")       # rgba, lifetime sec, nanosec, frame_locked
_BOOL = struct.Struct("<?")
_F32 = struct.Struct("<f")


def header_fields(header) -> tuple[int, int, str]:
    """(sec, nanosec, frame_id) of a std_msgs/Header (duck-typed)."""
    return int(header.stamp.sec), int(header.stamp.nanosec), str(header.frame_id)


def marker_array(markers, header) -> bytes:
    """visualization_msgs/MarkerArray bytes (Jazzy layout) from `markers.MarkerSpec`s."""
    head = CdrWriter()  # a Marker starts 4-aligned and its Header aligns to 4 at most:
    head.header(*header_fields(header))  # the same bytes for every Marker of the message
    header_bytes = head.getvalue()[len(CDR_LE):]
    w = CdrWriter()
    w.u32(len(markers))
    for m in markers:
        w.align(4)
        w.raw(header_bytes)
        w.string(m.ns)
        w.pack(_MARKER_IDS, 4, m.id, m.type, m.action)
        w.pack(_MARKER_POSE_SCALE, 8, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, m.width, m.width, m.width)
        w.pack(_MARKER_COLOUR_LIFE, 4, *m.rgba, m.lifetime[0], m.lifetime[1], False)
        w.array(m.points, "f8")                       # geometry_msgs/Point[]
        w.raw(_MARKER_TAIL)                           # ends 4-aligned: the tail's bytes are fixed
    return w.getvalue()


def _marker_tail() -> bytes:
    """The Marker fields after `points`, all empty / false: fixed bytes wherever they start
    on a 4-byte boundary (no field in them aligns to more than 4)."""
    w = CdrWriter()
    w.u32(0)                                      # colors
    w.string("")                                  # texture_resource
    w.header(0, 0, "")                            # texture: sensor_msgs/CompressedImage
    w.string("")                                  #   format
    w.u32(0)                                      #   data
    w.u32(0)                                      # uv_coordinates
    w.string("")                                  # text
    w.string("")                                  # mesh_resource
    w.string("")                                  # mesh_file.filename
    w.u32(0)                                      # mesh_file.data
    w.pack(_BOOL, 1, False)                       # mesh_use_embedded_materials
    return w.getvalue()[len(CDR_LE):]


_MARKER_TAIL = _marker_tail()


def skeleton_array(skeletons, header) -> bytes:
    """lfm3d_ros/Skeleton3DArray bytes from `conversions.SkeletonOut`s (fields in msg/ order)."""
    w = CdrWriter()
    w.header(*header_fields(header))
    w.u32(len(skeletons))
    for sk in skeletons:
        w.pack(_I32, 4, int(sk.instance_id))
        w.string(sk.category)
        w.string(sk.rig)
        w.array(sk.points, "f8")                      # geometry_msgs/Point[]
        w.array(sk.confidence, "f4")
        w.array(np.asarray(sk.edges).reshape(-1), "u2")
        w.pack(_BOOL, 1, bool(sk.metric))
        w.pack(_F32, 4, float(sk.scale))
    return w.getvalue()


def matches_rclpy(skeletons, skeleton_msg, markers, marker_msg) -> bool:
    """Whether rclpy reads both encoders' bytes back as the given message objects, at rclpy's
    own size (padding bytes are not compared: Fast CDR leaves them uninitialised).

    `skeleton_msg` / `marker_msg` are built from `skeletons` / `markers` with the header of
    `skeleton_msg`; use finite points (NaN != NaN in message equality).
    """
    from rclpy.serialization import deserialize_message, serialize_message

    header = skeleton_msg.header
    for data, msg in ((skeleton_array(skeletons, header), skeleton_msg),
                      (marker_array(markers, header), marker_msg)):
        try:
            reference = serialize_message(msg)  # read back too: float32 fields hold doubles in msg
            same = (len(data) == len(reference)
                    and deserialize_message(data, type(msg)) == deserialize_message(reference, type(msg)))
        except Exception:  # noqa: BLE001 - any failure to read back means: do not use it
            same = False
        if not same:
            return False
    return True

"""Record ROS 2 messages to an MCAP file that `ros2 bag play`, rosbags and Foxglove read.

Messages are written as CDR (rclpy's own serialisation, byte-identical to rosbag2) with
`ros2msg` schemas: the message definition text with its dependencies appended, as
rosbag2's MCAP storage plugin writes them. Definitions are read from the `.msg` files of
the installed packages (`<prefix>/share/<pkg>/msg/<Type>.msg`, prefixes from
AMENT_PREFIX_PATH and the running Python's prefix), falling back to this repo's msg/.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from mcap.writer import CompressionType, Writer

PRIMITIVES = {"bool", "byte", "char", "float32", "float64", "int8", "uint8", "int16", "uint16",
              "int32", "uint32", "int64", "uint64", "string", "wstring"}
SEPARATOR = "=" * 80
REPO_MSG_DIR = Path(__file__).resolve().parents[1] / "msg"


def _prefixes() -> list[Path]:
    paths = [Path(p) for p in os.environ.get("AMENT_PREFIX_PATH", "").split(os.pathsep) if p]
    return paths + [Path(sys.prefix)]


def find_msg_file(pkg: str, name: str) -> Path:
    """Path of `<pkg>/msg/<name>.msg`; FileNotFoundError naming where it looked."""
    candidates = [prefix / "share" / pkg / "msg" / f"{name}.msg" for prefix in _prefixes()]
    if pkg == "lfm3d_ros":
        candidates.append(REPO_MSG_DIR / f"{name}.msg")
    for path in candidates:
        if path.is_file():
            return path
    raise FileNotFoundError(f"no definition of {pkg}/msg/{name}; looked in "
                            + ", ".join(str(c) for c in candidates))


def _dependencies(text: str, pkg: str) -> list[str]:
    """'pkg/Type' names of the non-primitive field types in a .msg text, in order."""
    deps = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        # constants (`uint8 ARROW=0`) are always primitive, so the type check covers them
        ftype = line.split()[0].split("[", 1)[0].split("<=", 1)[0]
        if ftype in PRIMITIVES:
            continue
        if ftype == "Header":
            ftype = "std_msgs/Header"
        elif "/" not in ftype:
            ftype = f"{pkg}/{ftype}"
        deps.append(ftype.replace("/msg/", "/"))
    return deps


def message_definition(type_name: str) -> str:
    """Full ros2msg definition of e.g. 'lfm3d_ros/msg/Skeleton3DArray' with dependencies."""
    pkg, _, name = type_name.partition("/msg/")
    if not name:
        pkg, _, name = type_name.partition("/")
    root = find_msg_file(pkg, name).read_text()
    parts, seen, queue = [root], set(), _dependencies(root, pkg)
    while queue:
        dep = queue.pop(0)
        if dep in seen:
            continue
        seen.add(dep)
        dpkg, dname = dep.split("/")
        text = find_msg_file(dpkg, dname).read_text()
        parts.append(f"{SEPARATOR}\nMSG: {dep}\n{text}")
        queue.extend(_dependencies(text, dpkg))
    return "\n".join(parts)


def type_name_of(msg_type) -> str:
    """'pkg/msg/Type' of a generated message class."""
    module = msg_type.__module__.split(".")
    return f"{module[0]}/msg/{msg_type.__name__}"


class McapRecorder:
    """Write CDR-serialised messages of a few topics to one MCAP file. Context manager."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = open(self.path, "wb")
        self._writer = Writer(self._file, compression=CompressionType.ZSTD
                              if _has_zstd() else CompressionType.NONE)
        self._writer.start(profile="ros2", library="lfm3d_ros.recorder")
        self._channels: dict[str, int] = {}
        self._sequence = 0
        self.count = 0

    def add_topic(self, topic: str, msg_type) -> int:
        """Register `topic` with the generated message class `msg_type`; returns the channel id."""
        if topic in self._channels:
            return self._channels[topic]
        name = type_name_of(msg_type)
        schema = self._writer.register_schema(name=name, encoding="ros2msg",
                                              data=message_definition(name).encode())
        channel = self._writer.register_channel(topic=topic, message_encoding="cdr",
                                                schema_id=schema)
        self._channels[topic] = channel
        return channel

    def write(self, topic: str, msg, log_time_ns: int | None = None) -> None:
        """Serialise and write one message of a registered topic (log time = now by default)."""
        from rclpy.serialization import serialize_message

        self.write_serialized(topic, serialize_message(msg), log_time_ns)

    def write_serialized(self, topic: str, data: bytes, log_time_ns: int | None = None) -> None:
        """Write one CDR-serialised message of a registered topic."""
        if topic not in self._channels:
            raise ValueError(f"topic {topic!r} not registered with add_topic()")
        now = time.time_ns() if log_time_ns is None else log_time_ns
        self._sequence += 1
        self._writer.add_message(self._channels[topic], log_time=now, data=data, publish_time=now,
                                 sequence=self._sequence)
        self.count += 1

    def close(self) -> None:
        """Finish the file (writes the summary and index); safe to call twice."""
        if self._file.closed:
            return
        self._writer.finish()
        self._file.close()

    def __enter__(self) -> "McapRecorder":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _has_zstd() -> bool:
    try:
        import zstandard  # noqa: F401
        return True
    except ImportError:
        return False

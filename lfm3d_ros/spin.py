"""The `main()` body every node of this package shares (ros2/examples style)."""

from __future__ import annotations

from typing import Callable

import rclpy
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node


def spin_node(make_node: Callable[[], Node], args=None, release: Callable[[Node], None] | None = None) -> int:
    """Init rclpy, build the node, spin until Ctrl-C or SIGTERM (both end cleanly, no
    traceback), then `release(node)` (if given), destroy it and shut down. Returns 0."""
    rclpy.init(args=args)  # installs rclpy's SIGINT/SIGTERM handlers (shutdown the context)
    node = None
    try:
        node = make_node()
        rclpy.spin(node)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        if node is not None:
            if release is not None:
                release(node)
            node.destroy_node()
        rclpy.try_shutdown()
    return 0

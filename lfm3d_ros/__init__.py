"""lfm3d_ros: the ROS 2 side of lfm3d (messages, the lifter node, markers, diagnostics).

One Python package has two homes: the hand-written modules here in the source tree,
and the `msg` subpackage that rosidl generates and the CMake build installs into
site-packages (or a colcon install space). Extending `__path__` over every
`lfm3d_ros` directory on sys.path joins them, so `lfm3d_ros.msg` imports when running
from the source tree. The directory this file lives in stays first in `__path__`, so
a hand-written module in the source tree always wins over an installed copy of it.
"""
from pkgutil import extend_path

__path__ = extend_path(__path__, __name__)

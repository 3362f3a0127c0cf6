"""Demo keypoint source node (`demo_source`): replayed real mocap as a 2D detector would see it.

Publishes `keypoints_2d` (Keypoints2DArray) and `camera_info` (CameraInfo) at `rate_hz`,
same stamp, frame `frame_id`. The scene (lfm3d_ros/demo_scene.py): `people` CMU mocap
people (rig mocap26) and a face (face68) seen by an orbiting virtual camera. With
`malformed_every` = k > 0, every k-th message also carries one malformed instance
(cycling through the bad-input kinds), to show the lifter dropping it and carrying on.

    python -m lfm3d_ros.demo_source --ros-args -p people:=2 -p malformed_every:=30
"""

from __future__ import annotations

from rcl_interfaces.msg import FloatingPointRange, IntegerRange, ParameterDescriptor
from rclpy.node import Node
from rclpy.qos import qos_profile_sensor_data
from sensor_msgs.msg import CameraInfo

from lfm3d_ros.demo_scene import MALFORMED_KINDS, DemoScene, malformed
from lfm3d_ros.msg import Keypoints2D, Keypoints2DArray
from lfm3d_ros.spin import spin_node


def to_keypoints_msg(inst: dict) -> Keypoints2D:
    """Scene instance dict -> Keypoints2D (no validation: malformed ones must stay malformed)."""
    return Keypoints2D(instance_id=int(inst["instance_id"]), category=inst["category"], rig=inst["rig"],
                       x=[float(v) for v in inst["uv"][:, 0]], y=[float(v) for v in inst["uv"][:, 1]],
                       confidence=[float(c) for c in inst["confidence"]],
                       edges=[int(e) for e in inst.get("edges", [])])


class DemoSource(Node):
    """Publishes the demo scene at a fixed rate."""

    def __init__(self):
        super().__init__("lfm3d_demo_source")
        self.declare_parameter("data_path", "", ParameterDescriptor(
            description="CMU mocap npz; empty = ../shared/data if present, else the bundled clip.",
            read_only=True))
        self.declare_parameter("rate_hz", 30.0, ParameterDescriptor(
            description="Publish rate (Hz).", read_only=True,
            floating_point_range=[FloatingPointRange(from_value=0.1, to_value=1000.0, step=0.0)]))
        self.declare_parameter("people", 3, ParameterDescriptor(
            description="Number of people in the scene.", read_only=True,
            integer_range=[IntegerRange(from_value=0, to_value=20, step=1)]))
        self.declare_parameter("include_face", True, ParameterDescriptor(
            description="Also publish a face (face68 rig).", read_only=True))
        self.declare_parameter("malformed_every", 0, ParameterDescriptor(
            description="Every k-th message adds one malformed instance; 0 = never.",
            integer_range=[IntegerRange(from_value=0, to_value=100000, step=1)]))
        self.declare_parameter("frame_id", "demo_camera_optical", ParameterDescriptor(
            description="Camera optical frame of the keypoints.", read_only=True))
        p = {name: self.get_parameter(name).value for name in
             ("data_path", "rate_hz", "people", "include_face", "frame_id")}
        self.scene = DemoScene(p["data_path"] or None, people=p["people"], include_face=p["include_face"])
        self.frame_id = p["frame_id"]
        self.pub = self.create_publisher(Keypoints2DArray, "keypoints_2d", qos_profile_sensor_data)
        self.info_pub = self.create_publisher(CameraInfo, "camera_info", qos_profile_sensor_data)
        self.count = 0
        self.t0 = self.get_clock().now()
        self.timer = self.create_timer(1.0 / p["rate_hz"], self.tick)
        self.get_logger().info(f"publishing {p['people']} people"
                               f"{' + a face' if p['include_face'] else ''} at {p['rate_hz']} Hz")

    def camera_info(self, header) -> CameraInfo:
        cam = self.scene.camera
        info = CameraInfo(header=header, width=cam.width, height=cam.height, distortion_model="plumb_bob")
        info.k = cam.k().reshape(-1).tolist()
        info.d = [0.0] * 5
        info.r = [1.0, 0, 0, 0, 1.0, 0, 0, 0, 1.0]
        info.p = [cam.focal, 0.0, cam.width / 2, 0.0, 0.0, cam.focal, cam.height / 2, 0.0, 0.0, 0.0, 1.0, 0.0]
        return info

    def tick(self) -> None:
        now = self.get_clock().now()
        t = (now - self.t0).nanoseconds * 1e-9
        msg = Keypoints2DArray()
        msg.header.stamp, msg.header.frame_id = now.to_msg(), self.frame_id
        msg.instances = [to_keypoints_msg(inst) for inst in self.scene.frame(t)]
        every = self.get_parameter("malformed_every").value
        self.count += 1
        if every and self.count % every == 0:
            kind = MALFORMED_KINDS[(self.count // every) % len(MALFORMED_KINDS)]
            msg.instances.append(to_keypoints_msg(malformed(kind)))
        self.info_pub.publish(self.camera_info(msg.header))
        self.pub.publish(msg)


def main(args=None) -> int:
    """Entry point: publish until Ctrl-C or SIGTERM."""
    return spin_node(DemoSource, args)


if __name__ == "__main__":
    raise SystemExit(main())

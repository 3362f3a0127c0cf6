"""Start the lfm3d lifter (and optionally the demo keypoint source).

    ros2 launch lfm3d_ros lift.launch.py
    ros2 launch lfm3d_ros lift.launch.py input_topic:=/detector/keypoints backend:=tensorrt
    ros2 launch lfm3d_ros lift.launch.py demo:=true
"""

import os

from ament_index_python.packages import get_package_share_directory
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument
from launch.conditions import IfCondition
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node


def generate_launch_description():
    default_params = os.path.join(get_package_share_directory("lfm3d_ros"), "config", "lift.yaml")
    args = [
        DeclareLaunchArgument("params_file", default_value=default_params,
                              description="Node parameters (YAML, top key lfm3d_lifter)."),
        DeclareLaunchArgument("backend", default_value="auto",
                              description="auto | tensorrt | onnxruntime"),
        DeclareLaunchArgument("model", default_value="",
                              description="ONNX model path; empty = the shipped default."),
        DeclareLaunchArgument("input_topic", default_value="keypoints_2d",
                              description="Keypoints2DArray input topic."),
        DeclareLaunchArgument("camera_info_topic", default_value="camera_info",
                              description="sensor_msgs/CameraInfo of the keypoints' camera."),
        DeclareLaunchArgument("output_topic", default_value="lifted_3d",
                              description="Skeleton3DArray output topic (markers on <output>/markers)."),
        DeclareLaunchArgument("demo", default_value="false",
                              description="Also start demo_source (replayed mocap keypoints)."),
    ]
    output = LaunchConfiguration("output_topic")
    lifter = Node(
        package="lfm3d_ros",
        executable="lift_node",
        name="lfm3d_lifter",
        output="screen",
        parameters=[LaunchConfiguration("params_file"),
                    {"backend": LaunchConfiguration("backend"),
                     "model": LaunchConfiguration("model")}],
        remappings=[("keypoints_2d", LaunchConfiguration("input_topic")),
                    ("camera_info", LaunchConfiguration("camera_info_topic")),
                    ("lifted_3d", output),
                    ("lifted_3d/markers", [output, "/markers"])],
    )
    demo = Node(
        package="lfm3d_ros",
        executable="demo_source",
        name="lfm3d_demo_source",
        output="screen",
        remappings=[("keypoints_2d", LaunchConfiguration("input_topic")),
                    ("camera_info", LaunchConfiguration("camera_info_topic"))],
        condition=IfCondition(LaunchConfiguration("demo")),
    )
    return LaunchDescription(args + [lifter, demo])

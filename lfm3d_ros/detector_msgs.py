"""Detector output -> the lifter's input message, for a ROS wrapper of any 2D detector.

    from lfm3d_net.adapters import from_ultralytics
    from lfm3d_ros.detector_msgs import to_keypoints_msg

    r = model(image)[0]                                        # Ultralytics YOLO-pose
    pub.publish(to_keypoints_msg(from_ultralytics(r.keypoints), image_msg.header))

`lfm3d_net.adapters` turns OpenPose, COCO-format (MMPose, Detectron2), Ultralytics and
MediaPipe output into `Detection`s on registered rigs; this module fills a
`Keypoints2DArray` from them (docs/inputs.md). The message classes are imported only when
called, so the module imports without a ROS install.
"""
from __future__ import annotations

import numpy as np

from lfm3d_net.adapters import Detection

__all__ = ["to_keypoints_msg", "keypoints_fields"]


def keypoints_fields(det: Detection) -> dict:
    """The `Keypoints2D` fields of one Detection (arrays float32, length N).

    Unreported points get x = y = NaN (msg/Keypoints2D.msg: missing) and confidence 0;
    confidences are clipped to [0, 1] as the message documents (Detectron2's heatmap logits
    exceed 1). `edges` stays empty: the node takes them from the rig.
    """
    kp = np.asarray(det.keypoints, dtype=np.float32).reshape(-1, 2)
    ok = np.isfinite(kp).all(axis=1)
    xy = np.where(ok[:, None], kp, np.float32(np.nan))
    conf = np.clip(np.where(ok, np.asarray(det.confidence, dtype=np.float32), 0), 0, 1)
    return {"instance_id": int(det.instance_id), "category": det.category, "rig": det.rig,
            "x": np.ascontiguousarray(xy[:, 0]), "y": np.ascontiguousarray(xy[:, 1]),
            "confidence": conf.astype(np.float32)}


def to_keypoints_msg(detections, header):
    """Detections of one image (a list, or one Detection) + std_msgs/Header (the image's
    stamp and camera optical frame) -> lfm3d_ros.msg.Keypoints2DArray."""
    from lfm3d_ros.msg import Keypoints2D, Keypoints2DArray

    if isinstance(detections, Detection):
        detections = [detections]
    return Keypoints2DArray(header=header,
                            instances=[Keypoints2D(**keypoints_fields(d)) for d in detections])

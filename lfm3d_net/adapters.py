"""Readers for the keypoint output of common 2D detectors -> `Detection`s on registered rigs.

Formats (docs/inputs.md shows a file of each and the CLI command that lifts it):

| format | what | rig by point count |
|---|---|---|
| `openpose` | OpenPose `--write_json` files: `people[].pose_keypoints_2d` (BODY_25), `face_keypoints_2d` (70 = iBUG-68 + 2 pupils), `hand_{left,right}_keypoints_2d` | 25 body25, 70/68 face68, 21 hand21 |
| `coco` | COCO keypoint results (a list of `{image_id, category_id, keypoints: [x, y, score]*K, score}`, as MMPose / RTMPose, Detectron2 and COCO evaluators write) or a COCO annotation file (`annotations`, visibility flags) | 17 coco17, 133 coco_wholebody133, 21 hand21, 68 face68; an annotation file's `categories[].keypoints` names pick a rig with those joint names |
| `ultralytics` | YOLO-pose `results[0].keypoints.xy` (B, K, 2) and `.conf` (B, K) arrays, or `results[0].to_json()` | 17 coco17, 21 hand21 |
| `mediapipe` | MediaPipe Pose (33) / Hands (21) landmark lists (legacy `mp.solutions` or the Tasks API, objects or their JSON), x/y normalised to the image size | 33 mediapipe_pose33, 21 hand21 |

Every reader returns one `Detection` per detected instance: (N, 2) pixel keypoints (NaN where
the detector reports nothing), (N,) confidences, the rig name ("" when the layout is not one we
know) and a category. Instances without a single reported point are dropped (OpenPose writes
zeros for an undetected hand). Bad input raises `AdapterError` naming the source and the field.

Numpy only: no detector package is imported (detector objects are read by duck typing).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from .rigs import RIGS, get_rig

__all__ = ["Detection", "AdapterError", "FORMATS", "from_openpose", "from_coco",
           "from_ultralytics", "from_ultralytics_json", "from_mediapipe", "detect_format",
           "read_detections", "to_rig"]

#: Detector formats `read_detections` reads ("lfm3d" is the CLI's own JSON / NPZ schema).
FORMATS = ("openpose", "coco", "ultralytics", "mediapipe")


class AdapterError(ValueError):
    """Malformed detector output; the message names the source (file) and the field."""


@dataclass(frozen=True, eq=False)  # arrays inside: no element-wise ==
class Detection:
    """One detected instance (a person, a hand, a face, ...) in one image.

    keypoints:   (N, 2) float32 pixels, x right, y down; NaN where the detector reports nothing.
    confidence:  (N,) float32, the detector's own per-point score (0 where nothing is reported);
                 in [0, 1] for all formats here except Detectron2, whose scores are heatmap logits.
    rig:         registered rig name (`lfm3d_net.rigs`), "" for a layout not registered.
    category:    "person", "hand", "face", ... ("" unknown).
    instance_id: tracking id from the detector, -1 = untracked.
    image_id:    the image the instance belongs to where the format says (COCO), else None.
    source:      where in the input it came from, e.g. "people[0].hand_left_keypoints_2d".
    """

    keypoints: np.ndarray
    confidence: np.ndarray
    rig: str = ""
    category: str = ""
    instance_id: int = -1
    image_id: int | str | None = None
    source: str = ""

    @property
    def n(self) -> int:
        """Number of keypoints N."""
        return len(self.keypoints)

    def mask(self, min_confidence: float = 0.0) -> np.ndarray:
        """(N,) bool: reported points with confidence > min_confidence (the CLI's rule)."""
        return np.isfinite(self.keypoints).all(axis=1) & (self.confidence > min_confidence)


def to_rig(det: Detection, rig: str) -> Detection:
    """The Detection's points of `rig`'s joints, picked by joint name, as a `rig` Detection.

    E.g. body25, mediapipe_pose33 or coco_wholebody133 -> coco17, a rig the model was trained
    on: the shipped model lifts the COCO-17 joints of a body25 person about 2x, of a
    mediapipe_pose33 person 1.3x more accurately this way (docs/inputs.md). AdapterError when
    the Detection has no rig or its rig lacks one of `rig`'s joints; KeyError for an unknown rig.
    """
    target = get_rig(rig)
    if det.rig == rig:
        return det
    have = get_rig(det.rig).joints if det.rig else ()
    missing = [j for j in target.joints if j not in have]
    if missing:
        more = ", ..." if len(missing) > 3 else ""
        raise AdapterError(f"{det.source or 'detection'}: rig {det.rig!r} lacks {len(missing)} "
                           f"joint(s) of {rig!r} ({', '.join(missing[:3])}{more})")
    idx = [have.index(j) for j in target.joints]
    return replace(det, keypoints=det.keypoints[idx], confidence=det.confidence[idx], rig=rig)


# -- shared helpers -----------------------------------------------------------------------------

# point count -> rig, per format (a `rig=` override wins where its N fits)
_COCO_RIGS = {17: "coco17", 133: "coco_wholebody133", 21: "hand21", 68: "face68"}
_YOLO_RIGS = {17: "coco17", 21: "hand21"}
_MEDIAPIPE_RIGS = {33: "mediapipe_pose33", 21: "hand21"}


def _rig_for(n: int, table: dict[int, str], override: str | None) -> str:
    """The rig of an N-point instance: `override` if it has N points, else the format's default."""
    if override and get_rig(override).n == n:
        return override
    return table.get(n, "")


def _category(rig: str, default: str = "") -> str:
    return RIGS[rig].category if rig in RIGS else default


def _numbers(value, where: str, width: int) -> np.ndarray:
    """A flat list [a0, b0, (c0,) a1, ...] of numbers -> (K, width) float64; AdapterError if not."""
    try:
        flat = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise AdapterError(f"{where}: expected a flat list of numbers") from None
    if flat.ndim != 1 or flat.size % width:
        got = f"{flat.size} numbers" if flat.ndim == 1 else f"shape {flat.shape}"
        raise AdapterError(f"{where}: expected a flat list of {width}*K numbers, got {got}")
    if not np.isfinite(flat).all():
        raise AdapterError(f"{where}: holds null, NaN or inf")
    return flat.reshape(-1, width)


def _detection(xy, conf, reported, **meta) -> Detection | None:
    """Build a Detection with NaN / 0 at unreported points; None when nothing is reported."""
    if not reported.any():
        return None
    kp = np.where(reported[:, None], xy, np.nan).astype(np.float32)
    return Detection(kp, np.where(reported, conf, 0).astype(np.float32), **meta)


def _id(value) -> int:
    """A tracking id as an int; -1 (untracked) for None or anything that is not an integer."""
    # Ultralytics' boxes.id is a float tensor: whole floats count
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.number)):
        return -1
    return int(value) if float(value).is_integer() else -1


def _as_array(a):
    """A numpy array from numpy input or a (CPU or GPU) tensor, without importing torch."""
    if hasattr(a, "detach"):
        a = a.detach()
    if hasattr(a, "cpu"):
        a = a.cpu()
    return np.asarray(a.numpy() if hasattr(a, "numpy") else a)


# -- OpenPose -----------------------------------------------------------------------------------

# OpenPose JSON part -> (category, {point count: rig}, points kept)
_OPENPOSE_PARTS = {
    "pose_keypoints_2d": ("person", {25: "body25"}, None),
    "face_keypoints_2d": ("face", {70: "face68", 68: "face68"}, 68),  # 68, 69 = pupils: dropped
    "hand_left_keypoints_2d": ("hand", {21: "hand21"}, None),
    "hand_right_keypoints_2d": ("hand", {21: "hand21"}, None),
}


def from_openpose(doc, source: str = "openpose") -> list[Detection]:
    """An OpenPose JSON document (`{"people": [...]}`, one image) -> Detections.

    Each person gives up to four: body (BODY_25 -> body25; another pose model's layout keeps
    rig ""), face (face68, pupils dropped), left and right hand (hand21). Points OpenPose did
    not find are (0, 0, 0) there and NaN here.
    """
    people = doc.get("people") if isinstance(doc, dict) else None
    if not isinstance(people, list):
        raise AdapterError(f"{source}: people: expected a list (OpenPose --write_json output)")
    out = []
    for p, person in enumerate(people):
        if not isinstance(person, dict):
            raise AdapterError(f"{source}: people[{p}]: expected an object")
        pid = person.get("person_id", -1)  # OpenPose writes [-1] (untracked)
        pid = _id(pid[0] if isinstance(pid, list) and pid else pid)
        for field, (category, rigs, keep) in _OPENPOSE_PARTS.items():
            if not person.get(field):  # absent or [] when the part was not enabled
                continue
            where = f"people[{p}].{field}"
            rows = _numbers(person[field], f"{source}: {where}", 3)
            if keep is not None and len(rows) in rigs:
                rows = rows[:keep]
            det = _detection(rows[:, :2], rows[:, 2], rows[:, 2] > 0, rig=rigs.get(len(rows), ""),
                             category=category, instance_id=pid, source=where)
            if det is not None:
                out.append(det)
    return out


# -- COCO keypoint results / annotations ---------------------------------------------------------

def _rig_named(names) -> str:
    """The registered rig whose joint names are exactly `names`, else ""."""
    names = tuple(str(n) for n in names)
    return next((r.name for r in RIGS.values() if r.joints == names), "")


def from_coco(doc, rig: str | None = None, source: str = "coco") -> list[Detection]:
    """COCO keypoint results (a list of dicts) or a COCO annotation file (a dict) -> Detections.

    Results: `keypoints` [x, y, score]*K, score = the per-point confidence. Annotations:
    [x, y, v]*K with v = 0 unlabelled (missing), 1 or 2 labelled (confidence 1). The rig
    comes from the point count (17 coco17, 133 coco_wholebody133, 21 hand21, 68 face68), from
    an annotation file's category keypoint names, or from `rig` (used where its N fits, e.g.
    "quadruped17" for AP-10K results).
    """
    if isinstance(doc, dict):
        entries, field, flags = doc.get("annotations"), "annotations", True
        if not isinstance(entries, list):
            raise AdapterError(f"{source}: annotations: expected a list (COCO annotation file)")
        named = {c.get("id"): _rig_named(c.get("keypoints") or ())
                 for c in doc.get("categories") or () if isinstance(c, dict)}
    elif isinstance(doc, list):
        entries, field, flags, named = doc, "", False, {}
    else:
        raise AdapterError(f"{source}: expected a list of keypoint results or an object with "
                           "'annotations'")
    out = []
    for i, entry in enumerate(entries):
        where = f"{field}[{i}]"
        if not isinstance(entry, dict) or "keypoints" not in entry:
            raise AdapterError(f"{source}: {where}: expected an object with 'keypoints'")
        rows = _numbers(entry["keypoints"], f"{source}: {where}.keypoints", 3)
        conf = (rows[:, 2] > 0).astype(np.float64) if flags else rows[:, 2]
        # missing points are (0, 0, 0) in both kinds of file
        reported = rows[:, 2] > 0 if flags else ~(rows == 0).all(axis=1)
        name = named.get(entry.get("category_id"), "") if not rig else ""
        r = name or _rig_for(len(rows), _COCO_RIGS, rig)
        det = _detection(rows[:, :2], conf, reported, rig=r, category=_category(r),
                         instance_id=_id(entry.get("track_id")),
                         image_id=entry.get("image_id"), source=where)
        if det is not None:
            out.append(det)
    return out


# -- Ultralytics YOLO-pose ----------------------------------------------------------------------

def from_ultralytics(xy, conf=None, rig: str | None = None, track_ids=None,
                     source: str = "ultralytics", _where: str = "xy[{}]") -> list[Detection]:
    """YOLO-pose keypoints of one image -> Detections.

    xy: (B, K, 2) pixels (`results[0].keypoints.xy`; numpy or a tensor), or the `Keypoints`
        object itself (its .xy and .conf are used); None = []. conf: (B, K) in [0, 1] or None (= all 1).
    track_ids: (B,) ints or None (`results[0].boxes.id` when tracking).
    Ultralytics zeroes points it did not find: (0, 0) counts as missing. Rig by K (17 coco17,
    21 hand21) or `rig` where its K fits.
    """
    if xy is None:  # results[0].keypoints of a frame without detections, or not a pose model
        return []
    if hasattr(xy, "xy"):  # a ultralytics.engine.results.Keypoints
        xy, conf = xy.xy, xy.conf if conf is None else conf
    xy = _as_array(xy).astype(np.float64)
    if xy.ndim == 2:
        xy = xy[None]
    if xy.ndim != 3 or xy.shape[-1] != 2:
        raise AdapterError(f"{source}: xy: expected shape (B, K, 2), got {xy.shape}")
    b, k = xy.shape[:2]
    c = np.ones((b, k)) if conf is None else _as_array(conf).astype(np.float64)
    if c.size != b * k:
        raise AdapterError(f"{source}: conf: expected shape ({b}, {k}) like xy, got {c.shape}")
    c = c.reshape(b, k)
    if not (np.isfinite(xy).all() and np.isfinite(c).all()):
        raise AdapterError(f"{source}: xy / conf: hold NaN or inf")
    ids = [-1] * b if track_ids is None else [_id(t) for t in _as_array(track_ids).reshape(-1)]
    if len(ids) != b:
        raise AdapterError(f"{source}: track_ids: {len(ids)} ids for {b} instances")
    r = _rig_for(k, _YOLO_RIGS, rig)
    out = []
    for i in range(b):
        det = _detection(xy[i], c[i], ~(xy[i] == 0).all(axis=1), rig=r, category=_category(r),
                         instance_id=ids[i], source=_where.format(i))
        if det is not None:
            out.append(det)
    return out


def from_ultralytics_json(doc, image_size=None, rig: str | None = None,
                          source: str = "ultralytics") -> list[Detection]:
    """`results[0].to_json()` (a list of `{name, class, confidence, box, keypoints: {x, y,
    visible}, track_id?}`) -> Detections. Coordinates are pixels (to_json's default); pass
    image_size (width, height) for a file written with normalize=True."""
    if not isinstance(doc, list):
        raise AdapterError(f"{source}: expected a list of detections (Ultralytics to_json())")
    xy, conf, ids = [], [], []
    for i, entry in enumerate(doc):
        kp = entry.get("keypoints") if isinstance(entry, dict) else None
        if not isinstance(kp, dict) or "x" not in kp or "y" not in kp:
            raise AdapterError(f"{source}: [{i}].keypoints: expected an object with 'x' and 'y'")
        cols = [_numbers(kp[f], f"{source}: [{i}].keypoints.{f}", 1)[:, 0]
                for f in ("x", "y", "visible") if f in kp]
        if len({len(c) for c in cols}) != 1:
            raise AdapterError(f"{source}: [{i}].keypoints: x, y, visible differ in length "
                               f"({', '.join(str(len(c)) for c in cols)})")
        xy.append(np.stack(cols[:2], axis=1) * _size(image_size))
        conf.append(cols[2] if len(cols) == 3 else np.ones(len(cols[0])))
        ids.append(_id(entry.get("track_id")))
    if len({len(k) for k in xy}) > 1:
        raise AdapterError(f"{source}: keypoints: detections have different point counts")
    if not xy:
        return []
    return from_ultralytics(np.stack(xy), np.stack(conf), rig, ids, source, _where="[{}]")


def _size(image_size) -> np.ndarray:
    """(2,) float64 (width, height) scale for normalised coordinates; (1, 1) for None."""
    if image_size is None:
        return np.ones(2)
    size = np.asarray(image_size, dtype=np.float64).reshape(-1)
    if size.shape != (2,) or not (size > 0).all():
        raise AdapterError(f"image_size: expected (width, height) > 0, got {image_size!r}")
    return size


# -- MediaPipe ------------------------------------------------------------------------------------

def _is_landmark(item) -> bool:
    return (isinstance(item, dict) and "x" in item) or (not isinstance(item, dict)
                                                       and hasattr(item, "x"))


def _landmark_lists(landmarks) -> list:
    """Normalise what MediaPipe hands out (one list or several) -> a list of landmark lists."""
    if landmarks is None:
        return []
    if isinstance(landmarks, dict):
        landmarks = landmarks.get("landmark", landmarks.get("landmarks"))
        return _landmark_lists(landmarks) if landmarks is not None else [None]
    if hasattr(landmarks, "landmark"):  # a legacy NormalizedLandmarkList
        return [list(landmarks.landmark)]
    items = list(landmarks)
    if items and _is_landmark(items[0]):
        return [items]
    return [lm for item in items for lm in _landmark_lists(item)]


def _landmark_rows(lms, where: str) -> np.ndarray:
    """One landmark list -> (N, 3) float64 [x, y, visibility (NaN if absent)]."""
    if not isinstance(lms, list) or not lms:
        raise AdapterError(f"{where}: expected a list of landmarks with x and y")
    rows = []
    for j, lm in enumerate(lms):
        get = lm.get if isinstance(lm, dict) else (lambda f, d=None, o=lm: getattr(o, f, d))
        try:
            rows.append([float(get("x")), float(get("y")), float(get("visibility", np.nan))])
        except (TypeError, ValueError):
            raise AdapterError(f"{where}[{j}]: expected numbers x, y (visibility optional)") from None
    rows = np.asarray(rows)
    if not np.isfinite(rows[:, :2]).all():
        raise AdapterError(f"{where}: x / y hold NaN or inf")
    return rows


def from_mediapipe(landmarks, image_size, source: str = "mediapipe") -> list[Detection]:
    """MediaPipe Pose / Hands landmarks of one image -> Detections.

    landmarks: legacy `results.pose_landmarks` or `results.multi_hand_landmarks`, Tasks API
        `result.pose_landmarks` / `result.hand_landmarks`, or their JSON (lists of {x, y, z,
        visibility}, or `{"landmark": [...]}` as protobuf's MessageToDict writes); None = [].
    image_size: (width, height) in pixels: MediaPipe's x, y are fractions of it.
    Pose (33 -> mediapipe_pose33): confidence = visibility. Hands (21 -> hand21): MediaPipe
    gives no per-point score, so all 1 (every landmark is predicted, none is missing).
    """
    if image_size is None:
        raise AdapterError(f"{source}: image_size: missing; MediaPipe landmarks are fractions "
                           "of the image size: give (width, height) (CLI: --image-size W H)")
    size = _size(image_size)
    out = []
    for i, lms in enumerate(_landmark_lists(landmarks)):
        rows = _landmark_rows(lms, f"{source}: landmarks[{i}]")
        r = _rig_for(len(rows), _MEDIAPIPE_RIGS, None)
        vis = rows[:, 2] if r == "mediapipe_pose33" and np.isfinite(rows[:, 2]).all() else None
        conf = np.ones(len(rows)) if vis is None else vis
        out.append(_detection(rows[:, :2] * size, conf, np.ones(len(rows), bool), rig=r,
                              category=_category(r), source=f"landmarks[{i}]"))
    return out


# -- files --------------------------------------------------------------------------------------

def _json_format(doc) -> str | None:
    """The format of a parsed JSON document by its structure, or None."""
    if isinstance(doc, dict):
        for key, fmt in (("instances", "lfm3d"), ("people", "openpose"), ("annotations", "coco"),
                         ("landmarks", "mediapipe"), ("landmark", "mediapipe")):
            if key in doc:
                return fmt
        return None
    if not isinstance(doc, list) or not doc:
        return None
    first = doc[0]
    if isinstance(first, dict) and "keypoints" in first:
        return "ultralytics" if isinstance(first["keypoints"], dict) else "coco"
    if _is_landmark(first) or (isinstance(first, dict) and "landmark" in first) or (
            isinstance(first, list) and first and _is_landmark(first[0])):
        return "mediapipe"
    return None


def _load(path: Path):
    """A JSON document or a dict of NPZ arrays."""
    try:
        if path.suffix == ".npz":
            with np.load(path, allow_pickle=False) as data:
                return {k: data[k] for k in data.files}
        return json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        kind = "NPZ" if path.suffix == ".npz" else "JSON"
        raise AdapterError(f"{path}: cannot read {kind} ({exc})") from None


def detect_format(path, doc=None) -> str:
    """"lfm3d", "openpose", "coco", "ultralytics" or "mediapipe" for a .json or .npz file, from
    its content (doc: the already loaded content); AdapterError when it matches none."""
    path = Path(path)
    doc = _load(path) if doc is None else doc
    if path.suffix == ".npz":
        fmt = "lfm3d" if "keypoints" in doc else "ultralytics" if "xy" in doc or "data" in doc \
            else None
    else:
        fmt = _json_format(doc)
    if fmt is None:
        raise AdapterError(
            f"{path}: cannot tell the format (expected lfm3d 'instances', OpenPose 'people', "
            "COCO keypoint results or 'annotations', Ultralytics to_json(), MediaPipe landmarks, "
            "or an NPZ with 'keypoints' or Ultralytics 'xy'); pass --format")
    return fmt


def _ultralytics_npz(arrays: dict, rig, source: str) -> list[Detection]:
    """NPZ of `keypoints.xy` (+ `conf`) or `keypoints.data` (B, K, 3), optional `track_ids`."""
    if "xy" in arrays:
        xy, conf = arrays["xy"], arrays.get("conf")
    elif "data" in arrays:
        data = arrays["data"]
        if data.ndim != 3 or data.shape[-1] not in (2, 3):
            raise AdapterError(f"{source}: data: expected shape (B, K, 3), got {data.shape}")
        xy, conf = data[..., :2], data[..., 2] if data.shape[-1] == 3 else None
    else:
        raise AdapterError(f"{source}: expected an array 'xy' (keypoints.xy) or 'data' "
                           f"(keypoints.data), found {sorted(arrays)}")
    return from_ultralytics(xy, conf, rig, arrays.get("track_ids"), source)


def read_detections(path, format: str = "auto", image_size=None, rig: str | None = None
                    ) -> list[Detection]:
    """Read a detector's output file (.json, or .npz for Ultralytics arrays) -> Detections.

    format: one of FORMATS or "auto" (`detect_format`). image_size: (width, height) pixels for
    normalised coordinates (MediaPipe always; a MediaPipe file may carry `image_size` itself).
    rig: a registered rig to use where its point count fits (e.g. "quadruped17" for AP-10K
    results in COCO format). Errors name the file and the field.
    """
    path = Path(path)
    doc = _load(path)
    fmt = detect_format(path, doc) if format == "auto" else format
    if fmt not in FORMATS:
        raise AdapterError(f"{path}: format {fmt!r} is not a detector format; known: {FORMATS}")
    if rig:
        get_rig(rig)  # KeyError naming the known rigs, before anything is read
    src = str(path)
    if path.suffix == ".npz":
        if fmt != "ultralytics":
            raise AdapterError(f"{path}: an NPZ file holds Ultralytics arrays, not {fmt}")
        return _ultralytics_npz(doc, rig, src)
    if fmt == "openpose":
        return from_openpose(doc, src)
    if fmt == "coco":
        return from_coco(doc, rig, src)
    if fmt == "ultralytics":
        return from_ultralytics_json(doc, image_size, rig, src)
    if isinstance(doc, dict) and "image_size" in doc and image_size is None:
        image_size = doc["image_size"]
    return from_mediapipe(doc, image_size, src)

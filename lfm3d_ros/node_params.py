"""The lifter node's parameters: defaults in one dataclass, descriptors, declare and read.

`config/lift.yaml` mirrors `NodeConfig` (same names, same defaults, a comment each).
Three kinds (docs/node.md):
- dynamic: take effect on the next message, settable in any state;
- `RECONFIGURE` (marked "(ro)" in lift.yaml and the docs): read on configure; a set is
  refused while the node is configured (inactive or active) and accepted while it is
  unconfigured, so "deactivate, cleanup, set, configure, activate" changes them;
- `READ_ONLY` (`autostart`): read once at start-up.
One validation (`problem`) serves start-up and run time: a refused start-up value is
reported by name, the default stands in, and configure fails until the parameter is set
to a good value; a refused run-time set is answered with the reason and changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

from lfm3d_net.metric import DEFAULT_SIZE_PRIORS, DEFAULT_UNKNOWN_SIZE

BACKENDS = ("auto", "tensorrt", "onnxruntime")
PRECISIONS = ("fp32", "fp16")
RELIABILITIES = ("best_effort", "reliable")
SIZE_PRIOR_PREFIX = "size_prior."


@dataclass
class NodeConfig:
    """Node parameters with their defaults (the single source of defaults)."""

    model: str = ""                  # ONNX path or shipped name; empty = lfm3d_net.models.default_for(backend)
    backend: str = "auto"            # auto | tensorrt | onnxruntime
    precision: str = "fp16"          # TensorRT precision: fp16 | fp32
    engine_cache_dir: str = ""       # TensorRT engine cache; empty = the Lifter's default
    threads: int = 2                 # ONNX Runtime intra-op threads (0 = runtime default)
    max_batch: int = 16              # most instances lifted per message (also the TRT profile)
    max_keypoints: int = 256         # instances with more points are dropped
    flip_average: bool = False       # also lift the mirror image and average: 2x network work, a few % better
    min_confidence: float = 0.3      # points below are masked out (treated as missing)
    default_rig: str = ""            # rig for instances that name none (if N matches)
    rigs_file: str = ""              # YAML of your own rigs (config/rigs_example.yaml), loaded on configure
    output_frame: str = ""           # frame_id of the outputs; empty = the input's frame_id
    qos_depth: int = 1               # input queue depth; 1 = drop old input under overload
    qos_reliability: str = "best_effort"  # input QoS: best_effort (sensor data) | reliable
    use_camera_info: bool = True     # place skeletons at metric depth once camera_info arrives
    camera_info_timeout: float = 5.0  # seconds; older camera_info is stale (pixel units again); 0 = never
    size_prior_default: float = DEFAULT_UNKNOWN_SIZE  # metres, category without a prior
    size_prior: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_SIZE_PRIORS))
    marker_scale: float = 0.03       # joint sphere diameter as a fraction of skeleton size
    marker_lifetime: float = 0.5     # seconds a marker stays without an update
    publish_markers: bool = True     # publish lifted_3d/markers
    autostart: bool = True           # configure + activate on start (no lifecycle manager)


RECONFIGURE = frozenset({"model", "backend", "precision", "engine_cache_dir", "threads", "max_batch",
                         "max_keypoints", "qos_depth", "qos_reliability", "use_camera_info", "rigs_file"})
READ_ONLY = frozenset({"autostart"})
RECONFIGURE_NOTE = " Read on configure: set it while the node is unconfigured (after cleanup)."

DESCRIPTIONS = {
    "model": "ONNX model: a path or a shipped name (lfm3d_small); empty = the shipped default for the "
             "backend (the GPU model on TensorRT when shipped, else the CPU default lfm3d_small).",
    "backend": "Inference runtime: auto (TensorRT if usable, else ONNX Runtime), tensorrt, onnxruntime.",
    "precision": "TensorRT engine precision: fp32 or fp16 (ignored by ONNX Runtime).",
    "engine_cache_dir": "Directory of cached TensorRT engines; empty = the Lifter's default.",
    "threads": "ONNX Runtime intra-op threads; 0 = runtime default.",
    "max_batch": "Most instances lifted per message (and the TensorRT profile's max batch); extra instances are dropped.",
    "max_keypoints": "Instances with more keypoints than this are dropped.",
    "flip_average": "Also lift each instance's mirror image and average the two 3D results: twice the "
                    "network work for a few percent lower error.",
    "min_confidence": "Keypoints with confidence below this are treated as missing.",
    "default_rig": "Rig used for instances whose rig field is empty, when its joint count matches.",
    "rigs_file": "YAML of your own rigs (format: config/rigs_example.yaml), registered on configure, so "
                 "messages can name them and get their edges, sides and fronts; empty = built-in rigs only.",
    "output_frame": "frame_id of lifted_3d and markers; empty = the input header's frame_id.",
    "qos_depth": "Depth of the keypoints_2d queue; 1 drops old input under overload.",
    "qos_reliability": "keypoints_2d reliability: best_effort (sensor data QoS) or reliable.",
    "use_camera_info": "Subscribe camera_info and place skeletons at metric depth using size priors.",
    "camera_info_timeout": "Seconds after which the last camera_info is stale and skeletons are published "
                           "in pixel units again; 0 = camera_info never goes stale.",
    "size_prior_default": "Size prior (metres) for a category without its own size_prior entry.",
    "marker_scale": "Joint sphere diameter as a fraction of the skeleton's size.",
    "marker_lifetime": "Seconds a marker lives without an update (stale skeletons vanish).",
    "publish_markers": "Publish visualization markers on lifted_3d/markers.",
    "autostart": "Configure and activate at start-up, for use without a lifecycle manager (read at start-up only).",
}

RANGES = {  # name -> (low, high, step); step 0 = continuous
    "threads": (0, 64, 1), "max_batch": (1, 1024, 1), "max_keypoints": (3, 4096, 1),
    "qos_depth": (1, 100, 1), "min_confidence": (0.0, 1.0, 0.0),
    "size_prior_default": (0.001, 1000.0, 0.0), "marker_scale": (0.0001, 1.0, 0.0),
    "marker_lifetime": (0.0, 60.0, 0.0), "camera_info_timeout": (0.0, 3600.0, 0.0),
}
SIZE_PRIOR_RANGE = (0.001, 1000.0, 0.0)
_NAMES = frozenset(f.name for f in fields(NodeConfig)) - {"size_prior"}

CHOICES = {"backend": BACKENDS, "precision": PRECISIONS, "qos_reliability": RELIABILITIES}


def _descriptor(name: str, description: str, value):
    from rcl_interfaces.msg import FloatingPointRange, IntegerRange, ParameterDescriptor

    text = description
    if name in CHOICES:
        text += f" One of: {', '.join(CHOICES[name])}."
    if name in RECONFIGURE:
        text += RECONFIGURE_NOTE
    desc = ParameterDescriptor(description=text, read_only=name in READ_ONLY)
    low_high = value_range(name)
    if low_high is not None:
        low, high, step = low_high
        if isinstance(value, int) and not isinstance(value, bool):
            desc.integer_range = [IntegerRange(from_value=low, to_value=high, step=step)]
        else:
            desc.floating_point_range = [FloatingPointRange(from_value=float(low), to_value=float(high),
                                                            step=float(step))]
    return desc


def value_range(name: str) -> tuple[float, float, float] | None:
    """(low, high, step) of a numeric parameter (size priors included), or None."""
    return SIZE_PRIOR_RANGE if name.startswith(SIZE_PRIOR_PREFIX) else RANGES.get(name)


def default_of(name: str):
    """The default value of a declared parameter name (size_prior.<category> included)."""
    if name.startswith(SIZE_PRIOR_PREFIX):
        return float(DEFAULT_SIZE_PRIORS.get(name[len(SIZE_PRIOR_PREFIX):], DEFAULT_UNKNOWN_SIZE))
    return getattr(NodeConfig(), name)


def problem(name: str, value) -> str | None:
    """Why `value` is not allowed for parameter `name` (type, range, choice), or None (also
    for a name that is not one of ours, e.g. rclpy's use_sim_time)."""
    if not (name.startswith(SIZE_PRIOR_PREFIX) or name in _NAMES):
        return None
    default = default_of(name)
    if type(value) is not type(default):
        return f"{name}={value!r} is a {type(value).__name__}, expected a {type(default).__name__}"
    low_high = value_range(name)
    if low_high is not None and not low_high[0] <= value <= low_high[1]:
        return f"{name}={value!r} is outside [{low_high[0]:g}, {low_high[1]:g}]"
    if name in CHOICES and value not in CHOICES[name]:
        return f"{name}={value!r} must be one of {', '.join(CHOICES[name])}"
    return None


def size_prior_names(overrides) -> list[str]:
    """Parameter names for the size priors: the built-in categories + any in the overrides."""
    names = {SIZE_PRIOR_PREFIX + cat for cat in DEFAULT_SIZE_PRIORS}
    names |= {str(k) for k in overrides if str(k).startswith(SIZE_PRIOR_PREFIX)}
    return sorted(names)


def declare(node) -> dict[str, str]:
    """Declare every parameter on `node` with its descriptor, from the overrides (params file,
    command line) where they are allowed.

    Returns the start-up errors, name -> why its override was refused (`problem`); such a
    parameter is declared with its default instead. An integer for a float parameter
    (`marker_lifetime: 1`) is taken as that float.
    """
    # rclpy keeps a node's --params-file values in `_parameter_overrides`; reading its keys
    # also lets users add size_prior.<category> entries without code changes.
    overrides = getattr(node, "_parameter_overrides", {}) or {}
    names = [f.name for f in fields(NodeConfig) if f.name != "size_prior"] + size_prior_names(overrides)
    errors = {}
    for name in names:
        default = default_of(name)
        value = overrides[name].value if name in overrides else default
        if isinstance(default, float) and type(value) is int:
            value = float(value)
        if name.startswith(SIZE_PRIOR_PREFIX):
            text = f"Size prior (metres) of category '{name[len(SIZE_PRIOR_PREFIX):]}': its largest extent."
        else:
            text = DESCRIPTIONS[name]
        error = problem(name, value)
        if error is not None:
            errors[name] = error
            value = default
        node.declare_parameter(name, value, _descriptor(name, text, default), ignore_override=True)
    return errors


def read(node) -> NodeConfig:
    """Read the declared parameters into a validated NodeConfig (ValueError if bad)."""
    values = {}
    for f in fields(NodeConfig):
        if f.name != "size_prior":
            values[f.name] = node.get_parameter(f.name).value
    priors = {name: param.value for name, param in node.get_parameters_by_prefix("size_prior").items()}
    cfg = NodeConfig(**values, size_prior=priors)
    validate(cfg)
    return cfg


def validate(cfg: NodeConfig) -> None:
    """ValueError naming the first parameter of `cfg` that `problem` refuses."""
    pairs = [(f.name, getattr(cfg, f.name)) for f in fields(NodeConfig) if f.name != "size_prior"]
    pairs += [(SIZE_PRIOR_PREFIX + cat, metres) for cat, metres in cfg.size_prior.items()]
    for name, value in pairs:
        error = problem(name, value)
        if error is not None:
            raise ValueError(f"parameter {error}")

"""Named data sources and the held-out sets used for the generalisation tables.

`SOURCES[name]()` builds a `PoseSource` (real-data factories take `data_dir`).
Held out of training (never in TRAIN_SOURCES):
- categories `bird` and `mug`: an animal and an object the model never sees, so the
  tables measure true category transfer (birds are articulated and unlike the
  quadrupeds; mugs are small rigid objects with a handle).
- rig `panoptic15`: a known category (person) on an unseen keypoint layout; rig `xarm6`:
  an arm the model never sees among the trained robot arms (users own many others).
- source `deepmimic`: a real person on a real skeleton of its own (not the CMU rig), the
  unseen person of the real-world proxy (`training/data/realworld.py`).
Layout sources (`human_layout_00..`, `quadruped_layout_00..`, `animal_layout_00..`: random
user-style rigs of a known body, see `layouts.py`; the animal ones over quadrupeds with a spine,
tail chain, carpi and hocks, `quadruped_anatomy.py`) are, like the procedural ones, families
counted apart.
Procedural sources (`procedural_creature_00..`, `procedural_object_00..`: random
topologies, see `procedural.py`) are training sources; `NAMED_SOURCES` are the rest.
User-format loaders (h36m, h3wb, amass) need the user's files; they are not here.
"""
from __future__ import annotations

import re
from functools import partial
from pathlib import Path

from training.data.base import PoseSource
from training.data.deepmimic import DeepMimicSource
from training.data.face import FaceSource
from training.data.layouts import LayoutSource, make_layout, parents_from_edges
from training.data.mocap_npz import DEFAULT_DATA_DIR, MocapNpzSource
from training.data.procedural import KINDS as PROCEDURAL_KINDS, category as procedural_category
from training.data.procedural import procedural_source, rig_name, source_name as procedural_source_name
from training.data.quadruped_anatomy import JOINTS as QUADRUPED28_JOINTS, PARENTS as QUADRUPED28_PARENTS
from training.data.quadruped_anatomy import anatomical_quadruped_source
from training.data.retarget import HUMAN36_JOINTS, HUMAN36_PARENTS
from training.data.robots import ARMS, arm_source, legged_source
from training.data.synthetic_animals import (bat_source, biped_source, bird_source, fish_source, insect_source,
                                             quadruped_source, reptile_source, wild_quadruped_source)
from training.data.synthetic_hand import hand_source
from training.data.synthetic_human import HumanVariantSource
from training.data.synthetic_objects import OBJECTS, object_source
from lfm3d_net.rigs import Rig, _from_parents, get_rig, register_rig

# The superset of human points that layouts pick from (training only: no user names it).
register_rig(Rig("human36", "person", HUMAN36_JOINTS, tuple(_from_parents(HUMAN36_PARENTS)),
                 (0,) * len(HUMAN36_JOINTS)))


def _dir(data_dir) -> Path:
    return Path(data_dir) if data_dir else DEFAULT_DATA_DIR


def _mocap(rig: str, data_dir=None) -> PoseSource:
    return MocapNpzSource(_dir(data_dir) / "cmu_iclone_mocap.npz", rig=rig)


def _human(rig: str, data_dir=None, **kw) -> PoseSource:
    return HumanVariantSource(rig, _dir(data_dir) / "cmu_iclone_mocap.npz", **kw)


def _deepmimic(data_dir=None) -> PoseSource:
    # A data dir may carry the clips (`deepmimic_motions/humanoid3d_*.txt`) for machines
    # without the pybullet wheel; otherwise they come from pybullet_data.
    motions = _dir(data_dir) / "deepmimic_motions"
    return DeepMimicSource(motions if motions.is_dir() else None)


def _face(data_dir=None) -> PoseSource:
    return FaceSource(_dir(data_dir) / "face68_meanshape.npz")


def _realistic(rig: str, data_dir=None) -> PoseSource:
    return _human(rig, data_dir, seed=1, name=f"human_realistic_{rig}", realistic=True)


HUMAN_LAYOUTS = 32       # random human layouts (user rigs) of the CMU people
QUADRUPED_LAYOUTS = 16   # and of the wild quadrupeds
ANIMAL_LAYOUTS = 16      # and of the quadrupeds with anatomy (spine, tail chain, carpi, hocks)


def _human_layout(k: int, data_dir=None) -> PoseSource:
    layout = make_layout(f"layout_person_{k:02d}", "person", HUMAN36_JOINTS, HUMAN36_PARENTS, k)
    base = _human("human36", data_dir, copies=1, seed=100 + k, realistic=True)
    return LayoutSource(f"human_layout_{k:02d}", layout, base)


def _quadruped_layout(k: int) -> PoseSource:
    q = get_rig("quadruped17")
    parents = parents_from_edges(q.n, q.edges, root=q.index("neck"))
    layout = make_layout(f"layout_quadruped_{k:02d}", "quadruped", q.joints, parents, k, seed=1,
                         n_range=(8, 24))
    return LayoutSource(f"quadruped_layout_{k:02d}", layout, wild_quadruped_source(count=8000, seed=100 + k))


def _animal_layout(k: int) -> PoseSource:
    layout = make_layout(f"layout_animal_{k:02d}", "quadruped", QUADRUPED28_JOINTS, QUADRUPED28_PARENTS, k,
                         seed=2, n_range=(10, 28))
    return LayoutSource(f"animal_layout_{k:02d}", layout, anatomical_quadruped_source(seed=200 + k))


PROCEDURAL_RIGS = 48          # random rigs per procedural kind
_PROCEDURAL = {procedural_source_name(kind, k): (kind, k)
               for kind in PROCEDURAL_KINDS for k in range(PROCEDURAL_RIGS)}
PROCEDURAL_SOURCES = tuple(_PROCEDURAL)
_LAYOUTS = {**{f"human_layout_{k:02d}": ("person", f"layout_person_{k:02d}", partial(_human_layout, k))
               for k in range(HUMAN_LAYOUTS)},
            **{f"quadruped_layout_{k:02d}": ("quadruped", f"layout_quadruped_{k:02d}",
                                             partial(_quadruped_layout, k))
               for k in range(QUADRUPED_LAYOUTS)},
            **{f"animal_layout_{k:02d}": ("quadruped", f"layout_animal_{k:02d}", partial(_animal_layout, k))
               for k in range(ANIMAL_LAYOUTS)}}
LAYOUT_SOURCES = tuple(_LAYOUTS)

SOURCES = {
    **{f"cmu_mocap_{r}": partial(_mocap, r) for r in ("mocap26", "coco17", "h36m17", "panoptic15")},
    **{f"human_variants_{r}": partial(_human, r)
       for r in ("coco17", "h36m17", "panoptic15", "coco_wholebody133")},
    **{f"human_realistic_{r}": partial(_realistic, r) for r in ("coco17", "h36m17", "coco_wholebody133")},
    "deepmimic": _deepmimic,
    "face68_synthetic": _face,
    "hand21_synthetic": hand_source,
    "quadruped17_synthetic": quadruped_source,
    "bird15_synthetic": bird_source,
    **{f"{r}_synthetic": partial(object_source, r) for r in OBJECTS},
    "quadruped17_wild": wild_quadruped_source,
    "fish14_synthetic": fish_source,
    "insect17_synthetic": insect_source,
    "reptile18_synthetic": reptile_source,
    "bat16_synthetic": bat_source,
    "biped17_synthetic": biped_source,
    **{f"{r}_urdf": partial(arm_source, r) for r in ARMS},
    "legged_robot17_urdf": legged_source,
    # file-free; the rig is registered when the source is built
    **{n: factory for n, (_, _, factory) in _LAYOUTS.items()},
    **{n: partial(procedural_source, kind, k) for n, (kind, k) in _PROCEDURAL.items()},
}
NAMED_SOURCES = tuple(n for n in SOURCES if n not in PROCEDURAL_SOURCES and n not in LAYOUT_SOURCES)
# Validation and evaluation tables: every named source plus a few procedural rigs and layouts
# of each kind (96 rigs would mean 96 table rows and 96 per-rig baselines to train).
REPORT_SOURCES = (NAMED_SOURCES + tuple(n for n, (_, k) in _PROCEDURAL.items() if k < 2)
                  + tuple(n for n in LAYOUT_SOURCES if n.endswith(("_00", "_01"))))
# Category and rig of every source without instantiating it (used for the held-out filter).
SOURCE_INFO = {
    **{f"cmu_mocap_{r}": ("person", r) for r in ("mocap26", "coco17", "h36m17", "panoptic15")},
    **{f"human_variants_{r}": ("person", r)
       for r in ("coco17", "h36m17", "panoptic15", "coco_wholebody133")},
    **{f"human_realistic_{r}": ("person", r) for r in ("coco17", "h36m17", "coco_wholebody133")},
    "deepmimic": ("person", "deepmimic15"), "face68_synthetic": ("face", "face68"),
    "hand21_synthetic": ("hand", "hand21"), "quadruped17_synthetic": ("quadruped", "quadruped17"),
    "bird15_synthetic": ("bird", "bird15"),
    **{f"{r}_synthetic": (c, r) for r, (c, _) in OBJECTS.items()},
    "quadruped17_wild": ("quadruped", "quadruped17"), "fish14_synthetic": ("fish", "fish14"),
    "insect17_synthetic": ("insect", "insect17"), "reptile18_synthetic": ("reptile", "reptile18"),
    "bat16_synthetic": ("bat", "bat16"), "biped17_synthetic": ("biped", "biped17"),
    **{f"{r}_urdf": ("robot_arm", r) for r in ARMS}, "legged_robot17_urdf": ("legged_robot", "legged_robot17"),
    **{n: (procedural_category(kind), rig_name(kind, k)) for n, (kind, k) in _PROCEDURAL.items()},
    **{n: (c, r) for n, (c, r, _) in _LAYOUTS.items()},
}
HELD_OUT_CATEGORIES = ("bird", "mug")
HELD_OUT_RIGS = ("panoptic15", "xarm6")
HELD_OUT_REAL = ("deepmimic",)     # real sources kept for the real-world proxy
HELD_OUT_SOURCES = tuple(n for n, (c, r) in SOURCE_INFO.items()
                         if c in HELD_OUT_CATEGORIES or r in HELD_OUT_RIGS or n in HELD_OUT_REAL)
TRAIN_SOURCES = tuple(n for n in SOURCES if n not in HELD_OUT_SOURCES)

# The named training sources of earlier data generations, so that a config keeps its data
# when sources are added (TrainConfig.source_set; procedural rigs come on top as before).
# v2/v3: people, face, hand, quadruped and five objects; v4 added the robots; v5 more animals,
# objects and wild quadrupeds (the data of v5-v7); "" = all of TRAIN_SOURCES (v8 added bats and
# tailed bipeds, the animals nearest the held-out bird).
_V2_NAMED = ("cmu_mocap_mocap26", "cmu_mocap_coco17", "cmu_mocap_h36m17", "human_variants_coco17",
             "human_variants_h36m17", "human_variants_coco_wholebody133", "deepmimic",
             "face68_synthetic", "hand21_synthetic", "quadruped17_synthetic", "chair10_synthetic",
             "table8_synthetic", "car12_synthetic", "aircraft10_synthetic", "bottle8_synthetic")
_V8_NEW = ("bat16_synthetic", "biped17_synthetic")
_V13_NEW = ("human_realistic_coco17", "human_realistic_h36m17", "human_realistic_coco_wholebody133")
_V12 = tuple(n for n in NAMED_SOURCES if (n not in HELD_OUT_SOURCES or n in HELD_OUT_REAL)
             and n not in _V13_NEW)
# People only, for from-scratch data experiments judged by the real-world proxy: the CMU people
# of v12 (DeepMimic out) and those plus the real-world-style people (realistic builds, layouts).
_PEOPLE = ("cmu_mocap_mocap26", "cmu_mocap_coco17", "cmu_mocap_h36m17", "human_variants_coco17",
           "human_variants_h36m17", "human_variants_coco_wholebody133")
_HUMAN_LAYOUTS = tuple(n for n in LAYOUT_SOURCES if n.startswith("human_"))
# Arm A of the real-world work (small_realworld.yaml): every training source before the animal
# layouts, so that config keeps its data.
_REALWORLD_A = tuple(n for n in TRAIN_SOURCES if n not in PROCEDURAL_SOURCES and not n.startswith("animal_layout_"))
SOURCE_SETS = {"v2": _V2_NAMED,
               "v4": _V2_NAMED + ("franka_panda_urdf", "kuka_iiwa_urdf", "legged_robot17_urdf"),
               "v5": tuple(n for n in _V12 if n not in _V8_NEW),
               "v12": _V12,
               "people": _PEOPLE,
               "people_realistic": _PEOPLE + _V13_NEW,
               "people_layouts": _PEOPLE + _HUMAN_LAYOUTS,
               "people_realworld": _PEOPLE + _V13_NEW + _HUMAN_LAYOUTS,
               "realworld_a": _REALWORLD_A}

# Any procedural rig number names a source, not only the PROCEDURAL_RIGS listed in SOURCES:
# a config may train on more random topologies (TrainConfig.procedural_rigs).
_PROCEDURAL_NAME = re.compile(r"procedural_(creature|object)_(\d+)")


def procedural_names(rigs: int) -> tuple[str, ...]:
    """Source names of procedural rigs 0..rigs-1 of each kind (k < 100 with two digits, as in SOURCES)."""
    if rigs < 0:
        raise ValueError(f"procedural rigs must be >= 0, got {rigs}")
    return tuple(procedural_source_name(kind, k) for kind in PROCEDURAL_KINDS for k in range(rigs))


def source_factory(name: str):
    """The factory of source `name`: `SOURCES[name]`, or procedural rig k of any number k
    (`procedural_creature_123`). KeyError for an unknown name."""
    if name in SOURCES:
        return SOURCES[name]
    m = _PROCEDURAL_NAME.fullmatch(name)
    if m and procedural_source_name(m[1], int(m[2])) == name:      # one spelling per rig
        return partial(procedural_source, m[1], int(m[2]))
    raise KeyError(name)


def is_source(name: str) -> bool:
    """Whether `name` names a source (see `source_factory`)."""
    try:
        source_factory(name)
    except KeyError:
        return False
    return True


def train_sources(procedural_rigs: int | None = None, source_set: str = "") -> tuple[str, ...]:
    """TRAIN_SOURCES with `procedural_rigs` procedural rigs per kind (None: PROCEDURAL_RIGS);
    with a `source_set` of SOURCE_SETS, only that generation's named sources."""
    if source_set and source_set not in SOURCE_SETS:
        raise ValueError(f"unknown source_set {source_set!r}; known: {sorted(SOURCE_SETS)} or '' (all)")
    named = SOURCE_SETS[source_set] if source_set else tuple(n for n in TRAIN_SOURCES if n not in PROCEDURAL_SOURCES)
    if procedural_rigs is None:
        return named + PROCEDURAL_SOURCES
    return named + procedural_names(procedural_rigs)

"""ONNX export: valid graph, TensorRT op allow-list, dynamic shapes, ORT parity, metadata."""

import json
import subprocess
import sys

import numpy as np
import onnx
import pytest
import torch

from training.checkpoint import save_checkpoint
from training.export_onnx import (
    DYNAMIC_AXES, TENSORRT_OPS, check_graph, disallowed_ops, dummy_inputs, export, feed, ort_session,
    read_metadata,
)
from training.model import LFM3D, preset

ort = pytest.importorskip("onnxruntime")
torch.set_num_threads(1)


@pytest.fixture(scope="module")
def tiny_model():
    torch.manual_seed(0)
    return LFM3D(preset("tiny", knn=5, max_keypoints=300)).eval()


@pytest.fixture(scope="module")
def onnx_path(tiny_model, tmp_path_factory):
    return export(tiny_model, tmp_path_factory.mktemp("onnx") / "tiny.onnx")


@pytest.fixture(scope="module")
def session(onnx_path):
    return ort_session(onnx_path)


def test_graph_passes_checker_and_uses_only_allowed_ops(onnx_path):
    proto = onnx.load(str(onnx_path))
    check_graph(proto)  # full checker + strict shape inference + allow-list + dynamic axes
    assert disallowed_ops(proto) == set()
    assert proto.opset_import[0].version == 17
    ops = {n.op_type for n in proto.graph.node}
    assert {"LayerNormalization", "Softmax", "Erf", "Sin", "Cos"} <= ops  # fused LN, exact GELU


def test_allow_list_rejects_ops_tensorrt_cannot_parse(onnx_path):
    proto = onnx.load(str(onnx_path))
    proto.graph.node.append(onnx.helper.make_node("NonZero", ["mask"], ["nz"]))
    proto.graph.node.append(onnx.helper.make_node("Foo", ["mask"], ["foo"], domain="com.example"))
    assert disallowed_ops(proto) == {"NonZero", "com.example::Foo"}
    assert "NonZero" not in TENSORRT_OPS and "Loop" not in TENSORRT_OPS


def test_inputs_and_outputs_have_contract_names_and_dynamic_axes(onnx_path):
    proto = onnx.load(str(onnx_path))
    assert [i.name for i in proto.graph.input] == ["keypoints", "mask", "adjacency", "sides"]
    assert [o.name for o in proto.graph.output] == ["shape3d"]
    elem = {v.name: v.type.tensor_type.elem_type for v in list(proto.graph.input) + list(proto.graph.output)}
    assert elem == {"keypoints": onnx.TensorProto.FLOAT, "mask": onnx.TensorProto.BOOL,
                    "adjacency": onnx.TensorProto.BOOL, "sides": onnx.TensorProto.FLOAT,
                    "shape3d": onnx.TensorProto.FLOAT}
    for v in list(proto.graph.input) + list(proto.graph.output):
        dims = [d.dim_param or d.dim_value for d in v.type.tensor_type.shape.dim]
        assert dims[: len(DYNAMIC_AXES[v.name])] == list(DYNAMIC_AXES[v.name].values())


# Export dummy is B=2, N=7: every combination below differs from it, so a baked-in shape fails.
@pytest.mark.parametrize("b", [1, 7, 64])
@pytest.mark.parametrize("n", [3, 17, 21, 26, 68, 133, 256])
def test_onnxruntime_matches_pytorch(tiny_model, session, b, n):
    inputs = dummy_inputs(b, n, seed=b * 1000 + n)
    with torch.no_grad():
        ref = tiny_model(*inputs).numpy()
    out = session.run(None, feed(inputs))[0]
    assert out.shape == (b, n, 3)
    # fp32 with different kernels and summation orders; outputs are O(1), so 1e-4 is
    # ~1000 ulps of headroom yet far below any real error (a wrong mask moves outputs by ~0.1)
    assert np.abs(out - ref).max() < 1e-4
    assert np.all(out[~inputs[1].numpy()] == 0)  # masked points are exactly zero


def test_model_with_fronts_exports_a_fifth_input_matching_pytorch(tmp_path):
    torch.manual_seed(1)
    model = LFM3D(preset("tiny", use_fronts=True)).eval()
    path = export(model, tmp_path / "fronts.onnx")
    proto = onnx.load(str(path))
    check_graph(proto)
    assert [i.name for i in proto.graph.input] == ["keypoints", "mask", "adjacency", "sides", "fronts"]
    dims = [d.dim_param for d in proto.graph.input[4].type.tensor_type.shape.dim]
    assert dims == ["batch", "num_keypoints"]
    sess = ort_session(path)
    for b, n in ((1, 17), (7, 26), (3, 133)):
        inputs = dummy_inputs(b, n, seed=b + n, fronts=True)
        with torch.no_grad():
            ref = model(*inputs).numpy()
        out = sess.run(None, feed(inputs))[0]
        assert np.abs(out - ref).max() < 1e-4, (b, n)
    # the fronts are live in the graph: zeroing them changes the output
    zeroed = feed(inputs[:4] + (torch.zeros_like(inputs[4]),))
    assert np.abs(sess.run(None, zeroed)[0] - out).max() > 1e-4


def test_metadata_round_trips(tiny_model, onnx_path):
    meta = read_metadata(onnx_path)
    assert json.loads(meta["lfm3d_config"]) == tiny_model.config.to_dict()
    assert meta["lfm3d_knn"] == "5" and meta["lfm3d_max_keypoints"] == "300"
    import lfm3d_net

    assert meta["lfm3d_version"] == lfm3d_net.__version__


def test_cli_exports_a_checkpoint_with_its_metadata(tiny_model, tmp_path):
    save_checkpoint(tmp_path / "ckpt", tiny_model, {"rigs": ["coco17", "hand21"], "step": 3})
    out = tmp_path / "cli.onnx"
    subprocess.run([sys.executable, "-m", "training.export_onnx", "--checkpoint", str(tmp_path / "ckpt"),
                    "--output", str(out), "--check"], check=True, capture_output=True, text=True)
    meta = read_metadata(out)
    assert json.loads(meta["lfm3d_rigs"]) == ["coco17", "hand21"]
    assert json.loads(meta["lfm3d_config"]) == tiny_model.config.to_dict()

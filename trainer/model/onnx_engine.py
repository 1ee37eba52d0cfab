"""A fine-tuned transformers model as ONNX, run by ONNX Runtime: exported, optionally quantized to int8, and
wrapped so the forward passes of `trainer.model.inference` read it as they read the torch model.

The exported graph gives what the task adapters read of a forward pass: the logits and the last hidden
state. `OnnxModel` answers `model(**batch, output_hidden_states=True)` with those two, as torch tensors, so
scoring, Apply, Monitors and the HTTP service run a variant through the same code. Gradients are not part of
ONNX Runtime's inference session: integrated gradients keep using the torch model.
"""

from __future__ import annotations

import contextlib
import io
import warnings
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

OUTPUTS = ("logits", "hidden")
OPSET = 17
ENGINE = "ONNX Runtime"


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """The exporter's own progress lines kept off the user's terminal."""
    with contextlib.redirect_stdout(io.StringIO()):
        yield


def _inputs(model: Any, tokenizer: Any) -> list[str]:
    """The tokenizer's inputs that the model's forward takes (BERT: ids, token types, mask)."""
    import inspect

    accepted = inspect.signature(model.forward).parameters
    return [name for name in tokenizer.model_input_names if name in accepted]


def export(model: Any, tokenizer: Any, path: Path) -> Path:
    """Write `model` (a transformers classifier or tagger, on the CPU) as an ONNX graph at `path`.

    The example batch has a padded row, so the traced graph keeps the attention mask's path (transformers
    drops the mask when every position is real, and a graph traced that way would read padding)."""
    import torch

    names = _inputs(model, tokenizer)

    class Exported(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.inner = model

        def forward(self, *args: Any) -> tuple[Any, Any]:
            out = self.inner(**dict(zip(names, args, strict=True)), output_hidden_states=True)
            return out.logits, out.hidden_states[-1]

    sample = tokenizer(
        ["a longer example sentence to pad against", "short"], padding=True, return_tensors="pt"
    )
    axes = {name: {0: "batch", 1: "words"} for name in names}
    per_word = type(model).__name__.endswith("ForTokenClassification")
    axes.update(
        logits={0: "batch", 1: "words"} if per_word else {0: "batch"}, hidden={0: "batch", 1: "words"}
    )
    wrapper = Exported().eval()
    path.parent.mkdir(parents=True, exist_ok=True)
    with torch.inference_mode(False), torch.no_grad(), warnings.catch_warnings(), quiet():
        warnings.simplefilter("ignore")  # the tracer's notes on transformers' code are not the user's concern
        torch.onnx.export(wrapper, tuple(sample[n] for n in names), str(path), input_names=names,
                          output_names=list(OUTPUTS), dynamic_axes=axes, opset_version=OPSET, dynamo=False)  # fmt: skip
    model.eval()  # export restores the wrapper's (training) mode onto the model it holds
    fuse(path, model.config)
    return path


def fuse(path: Path, config: Any) -> None:
    """ONNX Runtime's transformer optimizer on the graph, in place: GELU with its bias, the residual with its
    layer norm (and attention, where the graph's attention is one it recognises) each fused into one kernel.
    A graph it cannot fuse is kept as exported: the fusions are a speed-up, never a condition."""
    try:
        from onnxruntime.transformers import optimizer

        with warnings.catch_warnings(), quiet():
            warnings.simplefilter("ignore")
            fused = optimizer.optimize_model(str(path), model_type="bert", num_heads=config.num_attention_heads,
                                             hidden_size=config.hidden_size)  # fmt: skip
            fused.save_model_to_file(str(path))
    except Exception:  # noqa: BLE001, S110 - an unfused graph answers the same; only slower
        return


def quantize(source: Path, target: Path, keep_float: tuple[str, ...] = ("classifier",)) -> Path:
    """int8 weights for every matrix product (per output channel; computed in int8 at run time by ONNX
    Runtime's dynamic quantization) and for the embedding tables; the nodes whose names hold a `keep_float`
    part (the head) stay float."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    graph = onnx.load(str(source)).graph
    kept = [node.name for node in graph.node if any(part in node.name for part in keep_float)]
    quantize_dynamic(str(source), str(target), weight_type=QuantType.QInt8, per_channel=True,
                     op_types_to_quantize=["MatMul", "Gemm", "Gather", "Attention"], nodes_to_exclude=kept,
                     extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})  # fmt: skip
    return target


def session(path: Path, threads: int | None = None) -> Any:
    """An ONNX Runtime session on the CPU with every graph optimisation on."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    if threads:
        options.intra_op_num_threads = threads
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def onnx_module(path: Path, config: Any) -> Any:
    """An `OnnxModel` of the graph at `path` (torch is imported only when a variant is used)."""
    import torch

    class OnnxModel(torch.nn.Module):
        """The ONNX graph behind a torch-like face: `config`, `eval()`, a CPU device, and a call that gives
        `.logits` and `.hidden_states[-1]` / `.last_hidden_state` as torch tensors."""

        def __init__(self) -> None:
            super().__init__()
            self.config = config
            self.session = session(path)
            self.names = [i.name for i in self.session.get_inputs()]
            self._anchor = torch.nn.Parameter(torch.zeros(1), requires_grad=False)  # says where it runs

        @property
        def device(self) -> Any:
            return self._anchor.device

        def forward(self, output_hidden_states: bool = False, **batch: Any) -> Any:
            feed = {name: batch[name].cpu().numpy().astype("int64") for name in self.names if name in batch}
            if "token_type_ids" in self.names and "token_type_ids" not in feed:
                feed["token_type_ids"] = feed["input_ids"] * 0
            logits, hidden = (torch.from_numpy(a) for a in self.session.run(list(OUTPUTS), feed))
            return SimpleNamespace(logits=logits, hidden_states=(hidden,), last_hidden_state=hidden)

    return OnnxModel().eval()

"""Making a run's compressed variants (trainer.runs.variants says where they live): the ONNX graph, its int8
quantization, and a smaller model with fewer encoder layers fine-tuned again briefly on the run's own
training split. Whether a variant is kept is decided elsewhere (trainer.train.compress), by the paired test.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from trainer.errors import PlainError
from trainer.i18n import tr
from trainer.model import onnx_engine
from trainer.runs.variants import ONNX_FILE

REFIT_EPOCHS = 2.0  # the smaller model's re-fine-tune: short, on the run's training split


class CannotShrink(PlainError):
    """This model cannot be made smaller by depth (said in words)."""


def make_onnx(model: Any, work: Path) -> Path:
    """The run's model as an ONNX graph in `work` (a folder of its own)."""
    work.mkdir(parents=True, exist_ok=True)
    onnx_engine.export(model.model.to("cpu"), model.tokenizer, work / ONNX_FILE)
    return work


def make_int8(onnx_folder: Path, work: Path) -> Path:
    """The ONNX graph with int8 weights (per channel; the head left in float), in `work`."""
    work.mkdir(parents=True, exist_ok=True)
    onnx_engine.quantize(onnx_folder / ONNX_FILE, work / ONNX_FILE)
    return work


def _layers(model: Any) -> tuple[Any, str]:
    """The encoder's list of layers and the config field that counts them."""
    base = model.base_model
    for owner in ("encoder", "transformer"):
        layers = getattr(getattr(base, owner, None), "layer", None)
        if layers is not None:
            return getattr(base, owner), "n_layers" if hasattr(
                model.config, "n_layers"
            ) else "num_hidden_layers"
    raise CannotShrink(tr("This model's encoder layers could not be found, so it cannot be made smaller by "
                          "depth; ONNX and int8 still can be tried."))  # fmt: skip


def kept_layers(count: int) -> list[int]:
    """Every other layer, counted down from the top one: 6 -> [1, 3, 5]; 2 -> [1]."""
    return sorted(range(count - 1, -1, -2))


def make_smaller(model: Any, run_dir: Path, work: Path, epochs: float = REFIT_EPOCHS,
                 should_stop: Any = None) -> Path:  # fmt: skip
    """Every other encoder layer of the run's model kept (and a mean-pooled run's pooling layer above them),
    then fine-tuned again for `epochs` on the run's own splits (the same Trainer code as any run, in a
    scratch run folder); the model folder in `work/model`."""
    import copy

    import torch

    from trainer.config import TrainConfig
    from trainer.runs import RunFolder
    from trainer.train.fit import fit

    folder = RunFolder(run_dir)
    pruned = copy.deepcopy(model.model).to("cpu")
    owner, field = _layers(pruned)
    # a mean-pooled run's last layer is its pooling head (trainer.model.heads): kept, above the layers kept
    pooled = folder.config().get("resolved_pooling") == "mean"
    count = len(owner.layer) - (1 if pooled else 0)
    if count < 2:
        raise CannotShrink(
            tr("This model has one encoder layer already: it cannot be made smaller by depth.")
        )
    keep = kept_layers(count) + ([count] if pooled else [])
    owner.layer = torch.nn.ModuleList([owner.layer[i] for i in keep])
    setattr(pruned.config, field, len(owner.layer))
    start = work / "start"
    pruned.save_pretrained(start, safe_serialization=True)
    model.tokenizer.save_pretrained(start)
    asked = folder.asked_config()
    settings = {k: asked[k] for k in ("batch_size", "max_length", "seed", "learning_rate") if asked.get(k)}
    if task := folder.config().get("task"):
        settings["task"] = task
    # the stock head on top: the pooling layer, where the run had one, is already in the start model
    config = TrainConfig(**settings, model=str(start), pooling="cls", epochs=epochs, effort="auto",
                         time_budget_minutes=0, few_shot="off")  # fmt: skip
    scratch = work / "run"
    scratch.mkdir(parents=True, exist_ok=True)
    data = folder.load_data()
    RunFolder(scratch).write_inputs(config.to_dict(), data)
    fit(config, data, scratch, should_stop=should_stop)
    made = work / "model"
    shutil.move(str(RunFolder(scratch).model_dir), made)
    shutil.rmtree(scratch, ignore_errors=True)
    shutil.rmtree(start, ignore_errors=True)
    return made

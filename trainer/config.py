"""TrainConfig: every fine-tuning setting, frozen and self-validating."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trainer.i18n import N_, tr
from trainer.model.heads import POOLING
from trainer.tasks import TASKS, TEXT_TASK, TOKEN_TASK, get_task

__all__ = [
    "DEVICES",
    "EFFORTS",
    "FEW_SHOT",
    "HELP",
    "TASKS",
    "TEXT_TASK",
    "TOKEN_TASK",
    "TrainConfig",
    "auto_epochs",
]

DEVICES = ("auto", "cpu", "cuda", "mps")
# How long to train when the epochs are left empty: "quick" (a first model in minutes on a CPU: a time budget), "best"
# (no time limit), "auto" (quick on a CPU, best on a GPU); both plan `auto_epochs` passes.
EFFORTS = ("auto", "quick", "best")
# The few-label way (trainer.train.few_shot): "auto" when labels are few, "on" always (text), "off" never.
FEW_SHOT = ("auto", "on", "off")

# Field help shared by the CLI (--help) and the app (one line under each widget).
HELP: dict[str, str] = {  # catalogue ids (N_): the app translates them where shown, the CLI prints them
    "model": N_(
        "The pretrained model to start from: 'default' (all-MiniLM-L6-v2, English), "
        "a local model folder, or a Hugging Face Hub id (needs internet)."
    ),
    "epochs": N_(
        "How many times the model reads the whole training set. Leave empty to choose "
        "from the data size (small sets get more passes); early stopping ends sooner when "
        "validation stops improving."
    ),
    "batch_size": N_("How many examples the model learns from at once. Lower it if you run out of memory."),
    "learning_rate": N_(
        "How big each learning step is. Leave empty for the measured default of the task "
        "(1e-4 for text labels, 2e-4 for entities); too high makes training unstable, too low makes it slow."
    ),
    "pooling": N_(
        "How a text label reads the sentence: 'mean' averages every word's vector (how all-MiniLM-L6-v2 was "
        "trained, and more accurate in our measurements), 'cls' reads the first token only (the stock "
        "transformers head). Entity runs always label each token."
    ),
    "max_length": N_(
        "The longest text, in tokens, the model reads; longer texts are cut. "
        "Leave empty to choose from your data."
    ),
    "lora": N_(
        "Train small adapter matrices instead of the whole model (LoRA): lighter on memory, "
        "usually a little less accurate on small models."
    ),
    "class_weights": N_(
        "Give rare classes more weight in the loss, so the model does not ignore them "
        "when the labels are imbalanced."
    ),
    "early_stopping_patience": N_(
        "Stop after this many evaluations without improvement on the "
        "validation set and keep the best model (0 turns it off)."
    ),
    "seed": N_("The random seed: the same seed and data give the same split and the same model."),
    "effort": N_(
        "How long to train when the epochs are left empty: 'quick' (a first model in a few minutes on a CPU: "
        "training stops at a time budget and keeps the best model so far), 'best' (no time limit: it trains "
        "until the validation score stops improving), 'auto' (quick on a CPU, best on a GPU)."
    ),
    "few_shot": N_(
        "Train the few-label way (SetFit: pairs of labelled texts teach the model which texts belong together, "
        "then a simple classifier on top): 'auto' does when a label has few examples (fewer than 50 per label "
        "on average), 'on' always, 'off' never. Text labels only."
    ),
    "time_budget_minutes": N_(
        "Stop training after this many minutes and keep the best model so far (0: no limit). Left empty, "
        "a quick run stops after 3 minutes and a best run has no limit."
    ),
}


MIN_STEPS, MIN_EPOCHS, MAX_EPOCHS = 600, 3, 10
# A quick first model: the passes `auto_epochs` chooses, early stopping, and at most QUICK_BUDGET_MINUTES of
# training, keeping the best model so far. bench/bench_first_model.py (bench/RESULTS.md, "A first model in
# minutes"): on the 681-row reviews sample fewer passes (3, 5, 7) scored 3 to 4 points lower than the longer
# default, whose early stopping ends it in about 80 s on a quiet CPU; a loaded CPU reaches the budget instead.
QUICK_BUDGET_MINUTES = 3.0
MAX_BUDGET_MINUTES = 7 * 24 * 60


def auto_epochs(n_train: int, samples_per_step: int) -> float:
    """Enough passes for about MIN_STEPS optimisation steps, between 3 and 10 epochs.

    Measured (bench/RESULTS.md, "Choosing the defaults"): small sets (a few hundred rows) need
    ~10 epochs, above all for entities; large sets converge in 3, so they don't pay for more.
    """
    steps_per_epoch = max(1, -(-max(1, n_train) // max(1, samples_per_step)))
    return float(min(MAX_EPOCHS, max(MIN_EPOCHS, -(-MIN_STEPS // steps_per_epoch))))


@dataclass(frozen=True)
class TrainConfig:
    """Settings of one fine-tuning run. Derive variants with `dataclasses.replace`."""

    model: str = "default"
    task: str = TEXT_TASK
    epochs: float | None = None  # None: chosen from the data size, see `auto_epochs`
    batch_size: int = 16
    learning_rate: float | None = None  # None: the task's measured default, see `resolved_learning_rate`
    pooling: str = "mean"
    max_length: int | None = None
    weight_decay: float = 0.01
    warmup_ratio: float = 0.1
    gradient_accumulation_steps: int = 1
    class_weights: bool = False
    early_stopping_patience: int = 2
    lora: bool = False
    lora_r: int = 8
    lora_alpha: int = 16
    lora_dropout: float = 0.1
    seed: int = 42
    val_fraction: float = 0.1
    test_fraction: float = 0.1
    max_steps: int | None = None
    eval_batch_size: int = 64
    device: str = "auto"
    devices: int | None = None  # processes (GPUs) to train on; None: every CUDA device there is
    text_column: str | None = None
    label_column: str | None = None
    effort: str = "auto"  # see EFFORTS: how many epochs "empty" means, and the quick run's time budget
    time_budget_minutes: float | None = None  # None: the effort's (quick: QUICK_BUDGET_MINUTES); 0: none
    few_shot: str = "auto"  # see FEW_SHOT
    augment: tuple[str, ...] = ()  # invariance families (trainer.data.perturb) whose changed copies train too

    def __post_init__(self) -> None:
        problems = list(self._problems())
        if problems:
            raise ValueError(tr("; ").join(problems))

    def _problems(self):
        """What is wrong with these settings, one plain sentence each, in the current language."""
        if not isinstance(self.model, str) or not self.model.strip():
            yield tr("model must be 'default', a folder or a hub id")
        if self.task not in TASKS:
            yield tr(
                "task must be one of {choices}, not {value}", choices=", ".join(TASKS), value=repr(self.task)
            )
        if self.epochs is not None and not 0 < self.epochs <= 100:
            yield tr("epochs must be between 0 and 100, not {value}", value=self.epochs)
        if not 1 <= self.batch_size <= 4096:
            yield tr("batch size must be between 1 and 4096, not {value}", value=self.batch_size)
        if self.learning_rate is not None and not 0 < self.learning_rate < 1:
            yield tr(
                "learning rate must be between 0 and 1 (e.g. 5e-5), not {value}", value=self.learning_rate
            )
        if self.pooling not in POOLING:
            yield tr(
                "pooling must be one of {choices}, not {value}",
                choices=", ".join(POOLING),
                value=repr(self.pooling),
            )
        if self.max_length is not None and not 8 <= self.max_length <= 8192:
            yield tr("max length must be between 8 and 8192 tokens, not {value}", value=self.max_length)
        if not 0 <= self.weight_decay < 1:
            yield tr("weight decay must be between 0 and 1, not {value}", value=self.weight_decay)
        if not 0 <= self.warmup_ratio < 1:
            yield tr("warmup ratio must be between 0 and 1, not {value}", value=self.warmup_ratio)
        if self.gradient_accumulation_steps < 1:
            yield tr("gradient accumulation steps must be at least 1")
        if self.early_stopping_patience < 0:
            yield tr("early stopping patience must be 0 (off) or more")
        if self.lora_r < 1 or self.lora_alpha < 1 or not 0 <= self.lora_dropout < 1:
            yield tr("LoRA rank and alpha must be positive and dropout between 0 and 1")
        if not (0 <= self.val_fraction < 0.5 and 0 <= self.test_fraction < 0.5):
            yield tr("validation and test fractions must each be between 0 and 0.5")
        if self.max_steps is not None and self.max_steps < 1:
            yield tr("max steps must be at least 1 when given")
        if self.eval_batch_size < 1:
            yield tr("eval batch size must be at least 1")
        if self.devices is not None and not 1 <= self.devices <= 64:
            yield tr("devices must be between 1 and 64, not {value}", value=self.devices)
        yield from self._length_problems()
        yield from self._augment_problems()
        if self.few_shot not in FEW_SHOT:
            yield tr(
                "few-shot must be one of {choices}, not {value}",
                choices=", ".join(FEW_SHOT),
                value=repr(self.few_shot),
            )
        if self.device not in DEVICES:
            yield tr(
                "device must be one of {choices}, not {value}",
                choices=", ".join(DEVICES),
                value=repr(self.device),
            )

    def _length_problems(self):
        """What is wrong with how long to train (the effort, the time budget)."""
        if self.effort not in EFFORTS:
            yield tr(
                "effort must be one of {choices}, not {value}",
                choices=", ".join(EFFORTS),
                value=repr(self.effort),
            )
        budget = self.time_budget_minutes
        if budget is not None and not (isinstance(budget, int | float) and 0 <= budget <= MAX_BUDGET_MINUTES):
            yield tr(
                "the time budget must be between 0 (no limit) and {most} minutes, not {value}",
                most=MAX_BUDGET_MINUTES,
                value=budget,
            )

    def _augment_problems(self):
        """What is wrong with the augmentation asked for."""
        from trainer.data.perturb import FAMILIES

        unknown = [f for f in self.augment if f not in FAMILIES]
        if unknown:
            yield tr(
                "augment must name changes among {choices}, not {value}",
                choices=", ".join(FAMILIES),
                value=", ".join(map(str, unknown)),
            )
        if self.augment and self.task in TASKS and not get_task(self.task).supports("small_changes"):
            yield tr("augmentation works for text classification so far, not for entity runs")

    def resolved_effort(self, accelerated: bool = False) -> str:
        """'quick' or 'best': the user's, else quick on a CPU and best on a GPU (`accelerated`)."""
        if self.effort != "auto":
            return self.effort
        return "best" if accelerated else "quick"

    def resolved_epochs(self, n_train: int, accelerated: bool = False) -> float:
        """The epochs to run: the user's, else chosen for this many training examples (`auto_epochs`; a
        quick run differs by its time budget, not its passes)."""
        if self.epochs is not None:
            return float(self.epochs)
        return auto_epochs(n_train, self.batch_size * self.gradient_accumulation_steps)

    def resolved_time_budget(self, accelerated: bool = False) -> float | None:
        """Seconds of training allowed (None: no limit): the user's budget, else a quick run's when the
        quick effort chose its length (no epochs or max steps given)."""
        minutes = self.time_budget_minutes
        if minutes is None:
            chosen = self.epochs is None and self.max_steps is None
            quick = chosen and self.resolved_effort(accelerated) == "quick"
            minutes = QUICK_BUDGET_MINUTES if quick else 0
        return float(minutes) * 60 if minutes else None

    def resolved_learning_rate(self) -> float:
        """The learning rate to use: the user's, or the task's measured default."""
        if self.learning_rate is not None:
            return float(self.learning_rate)
        return get_task(self.task).default_learning_rate

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict of every field."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TrainConfig:
        """Build from a dict, ignoring keys this version does not know."""
        known = {f.name for f in dataclasses.fields(cls)}
        given = {k: v for k, v in values.items() if k in known}
        if isinstance(given.get("augment"), list):  # JSON keeps the tuple as a list
            given["augment"] = tuple(given["augment"])
        return cls(**given)

    def save(self, path: Path) -> None:
        """Write as pretty JSON."""
        Path(path).write_text(json.dumps(self.to_dict(), indent=2), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> TrainConfig:
        """Read a config.json written by `save`."""
        return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))

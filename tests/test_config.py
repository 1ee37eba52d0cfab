import dataclasses

import pytest

from trainer.config import TrainConfig


def test_defaults_are_valid_and_frozen():
    config = TrainConfig()
    assert config.model == "default"
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.epochs = 3  # type: ignore[misc]


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("epochs", 0, "epochs"),
        ("batch_size", 0, "batch size"),
        ("learning_rate", 5, "learning rate"),
        ("max_length", 4, "max length"),
        ("task", "regression", "task"),
        ("device", "tpu", "device"),
        ("val_fraction", 0.7, "fractions"),
        ("pooling", "max", "pooling"),
    ],
)
def test_out_of_range_values_are_refused_with_a_plain_message(field, value, words):
    with pytest.raises(ValueError, match=words):
        TrainConfig(**{field: value})


def test_round_trip_through_json(tmp_path):
    config = dataclasses.replace(TrainConfig(), epochs=2.0, lora=True, max_length=64)
    config.save(tmp_path / "config.json")
    assert TrainConfig.load(tmp_path / "config.json") == config


def test_from_dict_ignores_unknown_keys():
    assert TrainConfig.from_dict({"epochs": 3, "resolved_max_length": 40}).epochs == 3


def test_epochs_left_empty_are_chosen_from_the_data_size():
    from trainer.config import auto_epochs

    assert TrainConfig().epochs is None
    assert auto_epochs(400, 16) == 10, "a few hundred rows get ten passes"
    assert auto_epochs(7000, 16) == 3, "thousands of rows converge in three"
    assert 3 < auto_epochs(3000, 16) < 10
    assert TrainConfig(epochs=2).resolved_epochs(400) == 2


def test_the_learning_rate_left_empty_is_the_measured_default_of_the_task():
    assert TrainConfig().resolved_learning_rate() == 1e-4
    assert TrainConfig(task="token-classification").resolved_learning_rate() == 2e-4
    assert TrainConfig(task="token-classification", learning_rate=3e-5).resolved_learning_rate() == 3e-5
    assert TrainConfig().pooling == "mean"


def test_quick_defaults_on_a_cpu_give_a_first_model_of_a_small_set_within_a_time_budget():
    """The 681-row reviews sample: 545 rows to train on. A quick run plans the same passes as the best one
    (fewer scored lower, bench/RESULTS.md) but stops at its time budget, keeping the best model so far."""
    from trainer.config import QUICK_BUDGET_MINUTES, auto_epochs

    config = TrainConfig()
    assert config.resolved_effort(accelerated=False) == "quick"
    assert config.resolved_epochs(545) == auto_epochs(545, 16) == 10
    assert config.resolved_time_budget() == QUICK_BUDGET_MINUTES * 60 <= 3 * 60, "a first model in minutes"
    assert config.early_stopping_patience > 0, "a small set stops when it stops improving"

    assert config.resolved_effort(accelerated=True) == "best", "a GPU trains the best model by default"
    assert config.resolved_epochs(545, accelerated=True) == 10
    assert config.resolved_time_budget(accelerated=True) is None
    best = TrainConfig(effort="best")
    assert best.resolved_epochs(545) == 10 and best.resolved_time_budget() is None


def test_the_time_budget_is_the_users_and_epochs_given_keep_their_length():
    assert TrainConfig(epochs=10).resolved_time_budget() is None, "epochs given: no quick budget"
    assert TrainConfig(max_steps=50).resolved_time_budget() is None
    assert TrainConfig(epochs=10, time_budget_minutes=2).resolved_time_budget() == 120
    assert TrainConfig(time_budget_minutes=0).resolved_time_budget() is None, "0 is no limit"
    assert TrainConfig(effort="best", time_budget_minutes=30).resolved_time_budget() == 1800
    with pytest.raises(ValueError, match="effort"):
        TrainConfig(effort="fast")
    with pytest.raises(ValueError, match="time budget"):
        TrainConfig(time_budget_minutes=-1)
    config = TrainConfig(effort="quick", time_budget_minutes=5)
    assert TrainConfig.from_dict(config.to_dict()) == config

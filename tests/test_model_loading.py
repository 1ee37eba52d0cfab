from types import SimpleNamespace

import pytest

from trainer.model.loading import ModelError, pick_device, resolve_model


def fake_torch(cuda=False, bf16=False, mps=False):
    return SimpleNamespace(
        cuda=SimpleNamespace(
            is_available=lambda: cuda,
            is_bf16_supported=lambda: bf16,
            get_device_name=lambda i: "NVIDIA Test GPU",
        ),
        backends=SimpleNamespace(mps=SimpleNamespace(is_available=lambda: mps)),
    )


def test_cuda_with_bf16_is_preferred():
    choice = pick_device(torch_module=fake_torch(cuda=True, bf16=True, mps=True))
    assert (choice.device, choice.precision, choice.name) == ("cuda", "bf16", "NVIDIA Test GPU")


def test_older_cuda_falls_back_to_fp16():
    assert pick_device(torch_module=fake_torch(cuda=True, bf16=False)).precision == "fp16"


def test_mps_then_cpu():
    assert pick_device(torch_module=fake_torch(mps=True)).device == "mps"
    cpu = pick_device(torch_module=fake_torch())
    assert cpu.device == "cpu" and cpu.precision is None and "CPU" in cpu.name


def test_asking_for_a_missing_gpu_is_a_plain_error():
    with pytest.raises(ModelError, match="No CUDA device"):
        pick_device("cuda", torch_module=fake_torch())


def test_this_machine_gets_a_working_device():
    assert pick_device().device in ("cpu", "cuda", "mps")


def test_default_resolves_to_the_bundled_model(real_model_dir):
    assert resolve_model("default") == str(real_model_dir)
    assert resolve_model("") == str(real_model_dir)


def test_local_folder_and_run_folder(tiny_model_dir, tmp_path):
    assert resolve_model(str(tiny_model_dir)) == str(tiny_model_dir)
    (tmp_path / "model").symlink_to(tiny_model_dir)
    assert resolve_model(str(tmp_path)).endswith("model")


def test_folder_without_config_says_what_a_model_folder_is(tmp_path):
    with pytest.raises(ModelError, match="config.json"):
        resolve_model(str(tmp_path))


def test_missing_path_is_not_mistaken_for_a_hub_id():
    with pytest.raises(ModelError, match="No model folder"):
        resolve_model("./no/such/folder")


def test_hub_id_without_internet_explains_itself():
    from trainer.model.loading import load_tokenizer

    with pytest.raises(ModelError, match="internet"):
        load_tokenizer("some-org/some-model-that-is-not-here")

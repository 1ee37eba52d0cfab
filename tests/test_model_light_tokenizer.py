"""trainer.model.light_tokenizer: the data checks' torch-free tokenizer reads exactly what transformers reads."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from trainer.model.light_tokenizer import LightTokenizer, load_light_tokenizer


def test_same_ids_as_the_transformers_tokenizer(real_model_dir, tokenizer):
    light = LightTokenizer(Path(real_model_dir))
    texts = ["Hello, world!", "这个手机很好", "antidisestablishmentarianism café"]
    assert light(texts)["input_ids"] == tokenizer(texts)["input_ids"]
    words = [["Anna", "Berg"], ["Nordwindbank", "hired"]]
    assert (
        light(words, is_split_into_words=True)["input_ids"]
        == tokenizer(words, is_split_into_words=True)["input_ids"]
    )
    assert light.unk_token_id == tokenizer.unk_token_id
    assert set(light.all_special_ids) == set(tokenizer.all_special_ids)
    assert light.model_max_length == 512


def test_loading_it_does_not_import_torch():
    code = (
        "import sys; from trainer.model.light_tokenizer import load_light_tokenizer; load_light_tokenizer('default');"
        "print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
    assert isinstance(load_light_tokenizer("default"), LightTokenizer)

"""A tiny BERT that reads Chinese, built from a character vocabulary (random weights, no download)."""

from __future__ import annotations

from pathlib import Path

SAMPLES = Path(__file__).resolve().parents[1] / "sample_data"
REVIEWS = SAMPLES / "chinese_reviews.csv"
ENTITIES = SAMPLES / "chinese_entities.conll"


def build_chinese_bert(folder: Path) -> Path:
    """A 2-layer, 32-wide random BERT whose WordPiece vocabulary is the samples' characters and the
    first CJK ideographs (3,000 Chinese characters in all), plus Latin letters and digits."""
    import torch
    from transformers import BertConfig, BertModel, BertTokenizerFast

    torch.manual_seed(0)
    chars = {
        ch for path in (REVIEWS, ENTITIES) for ch in path.read_text(encoding="utf-8") if not ch.isspace()
    }
    filler = (chr(cp) for cp in range(0x4E00, 0x9FFF))
    han = sorted(ch for ch in chars if "\u4e00" <= ch <= "\u9fff")
    han += [ch for ch in filler if ch not in chars][: 3000 - len(han)]
    others = sorted(ch for ch in chars if not "\u4e00" <= ch <= "\u9fff")
    latin = [chr(c) for c in range(ord("a"), ord("z") + 1)] + [str(d) for d in range(10)]
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *dict.fromkeys(others + latin + han)]
    folder.mkdir(parents=True)
    tokenizer = BertTokenizerFast(vocab={token: i for i, token in enumerate(vocab)}, do_lower_case=True)
    config = BertConfig(vocab_size=len(vocab), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=128)  # fmt: skip
    BertModel(config).save_pretrained(folder)  # model.safetensors
    tokenizer.save_pretrained(folder)  # tokenizer.json
    return folder

"""Token encoding (trainer.tasks.token): labels on the first subword of each word, long sentences in overlapping windows."""

from trainer.model.loading import load_tokenizer
from trainer.tasks.token import IGNORE_INDEX, encode_words


def test_labels_go_on_the_first_piece_of_each_word_only(real_model_dir):
    tokenizer = load_tokenizer(str(real_model_dir))
    words = ["Nordwindbankgesellschaft", "hired", "Anna"]
    (window,) = encode_words(tokenizer, [words], 64, tag_ids=[[1, 0, 2]])
    pieces = tokenizer.convert_ids_to_tokens(window.features["input_ids"])
    labelled = [(p, t) for p, t in zip(pieces, window.features["labels"], strict=True) if t != IGNORE_INDEX]
    assert len(pieces) > 6, "the long word is split into several pieces"
    assert [t for _, t in labelled] == [1, 0, 2]
    assert labelled[0][0] == pieces[1], "the tag sits on the first piece of the first word"


def test_long_sentences_keep_every_tag_through_overlapping_windows(real_model_dir):
    tokenizer = load_tokenizer(str(real_model_dir))
    words = [f"word{i}" for i in range(120)]
    windows = encode_words(tokenizer, [words], 32, tag_ids=[list(range(120))])
    assert len(windows) > 1
    tagged = {t for w in windows for t in w.features["labels"] if t != IGNORE_INDEX}
    assert tagged == set(range(120)), "no word loses its tag"

"""Files -> validated examples + a validation report.

Reads CSV, TSV, JSON Lines, JSON and CoNLL files (the encoding is detected), proposes the text and
label columns, cleans the rows, splits them into train/validation/test and reports what it found in
plain English. Every unusable input raises `DataError`, whose message tells a non-engineer what is
wrong and what to do. Imports stay cheap: pandas and numpy only (scikit-learn inside `prepare`).

Modules, one concept each: `readers` (files and encodings), `columns` (which column is what),
`rows` (rows into examples: label spellings, duplicates), `tags` (entity tag schemes), `checks`
(enough of each class, unseen labels), `splits` (train/validation/test), `report` (the validation
report and the tokenizer checks), `inputs` (new text to predict), `errors` (DataError, messages that
name settings), `stream` (large files in chunks), `word_rule` (the one rule for what a word is),
`light_tokenizer` (torch-free tokenizer for the checks), `safe_csv` (CSV safe to open in a spreadsheet).
Nothing here knows a task: `trainer.prepare` puts it all together, asking the task adapter what differs.

Decisions a caller relies on:
- Labels that differ only by case or surrounding spaces are merged into the most frequent spelling.
- Exact duplicate rows (same text and label) of the main file are dropped after the first, so a copy
  cannot sit in both training and test; duplicates with different labels are kept and warned about.
- Validation/test rows whose label (token task: entity type) is not in training are dropped, because
  the model cannot predict it; `report.unseen_labels` names them.
- A label with fewer than 3 rows stays in training; every label keeps at least 2 training rows.
- Token task: "every tag is O" is an error, but only a warning when nothing is held out
  (val_fraction == test_fraction == 0 and no eval/test file or split column: the file is only read).
- Token task: tags are normalised to BIO or IOBES (see `tags`). `labels` lists every prefix of every
  entity type seen in training.
"""

from trainer.data.errors import CLI_NAMES, PLAIN_NAMES, DataError, Message, render
from trainer.data.readers import (
    CONLL_EXTENSIONS,
    TABLE_EXTENSIONS,
    Source,
    detect_encoding,
    read_conll,
    read_conll_words,
    read_table,
)
from trainer.data.report import ValidationReport, choose_max_length, pct
from trainer.data.splits import Split
from trainer.data.tags import detect_tag_scheme, entity_counts, repair_tags
from trainer.data.word_rule import split_words

__all__ = [
    "CLI_NAMES",
    "CONLL_EXTENSIONS",
    "PLAIN_NAMES",
    "TABLE_EXTENSIONS",
    "DataError",
    "Message",
    "Source",
    "Split",
    "ValidationReport",
    "choose_max_length",
    "detect_encoding",
    "detect_tag_scheme",
    "entity_counts",
    "pct",
    "read_conll",
    "read_conll_words",
    "read_table",
    "render",
    "repair_tags",
    "split_words",
]

"""trainer.errors: one plain sentence for any failure."""

from trainer.data import DataError
from trainer.errors import friendly_error


def test_friendly_errors():
    assert friendly_error(ValueError("Column x missing")) == "Column x missing"
    assert "KeyError" in friendly_error(KeyError("boom"))


def test_memory_and_unexpected_failures_say_what_to_do():
    assert friendly_error(RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB")).startswith(
        "Ran out of memory. Lower the batch size"
    )
    assert friendly_error(MemoryError()).startswith("Ran out of memory")
    text = friendly_error(ZeroDivisionError("division by zero"), "scoring")
    assert text == "Something unexpected went wrong while scoring (ZeroDivisionError: division by zero)."
    assert friendly_error(DataError("The file is empty.")) == "The file is empty."

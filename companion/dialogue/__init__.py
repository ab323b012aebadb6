"""Scripted dialogue tests: designers describe a conversation in a TOML file (`spec.py`), the
runner plays it through the real pipeline (`runner.py`) and reports what did not happen as
expected (`report.py`); `companion test` and `tests/test_dialogues.py` run them."""

from .runner import DialogueResult, run_dialogue, run_dialogue_async
from .spec import Dialogue, load_dialogue

__all__ = ["Dialogue", "DialogueResult", "load_dialogue", "run_dialogue", "run_dialogue_async"]

"""Turns: from the driver's words to the last sentence spoken.

- `turn.py`: `Turn`, the object that owns one turn (its events, its sentences, its end);
- `pipeline.py`: `TurnPipeline`, router -> skill for each turn;
- `reply.py`: the reply path (a local answer, or the persona's model streamed);
- `chain.py`: the steps each sentence of a model's reply passes (repeat stop, kids-mode
  gate, driving cap);
- `taking.py`: `TurnTaker`, when turns start and stop (one at a time, guesses on the
  recogniser's words, barge-in, the microphone paused while we speak).
"""

from .pipeline import TurnPipeline
from .turn import Turn

__all__ = ["Turn", "TurnPipeline"]

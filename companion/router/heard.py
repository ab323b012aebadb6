"""Routing what the recogniser heard, with its alternatives.

A recogniser's best reading is not always the driver's words: PocketSphinx hears "I need gas"
as "i mean yes" with "i need gas" a few places down its n-best list, and "navigate home" as
"medicaid home" with "navigate home" next. When the best reading is something the car would
hand to the persona's model (conversation, a web search) or turn down (out of scope), and an
alternative is a request the car acts on with high confidence, the router takes that
alternative. It never takes a persona switch or a safety change from an alternative: those
need the best reading's own words.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from . import Intent, route
from .places import KnownPlaces, sample_places

if TYPE_CHECKING:
    from ..personas.loader import Persona
    from .model import IntentModel

# What an alternative may become: requests the car acts on itself (families, and intents).
ACTING = frozenset({"navigation", "car", "control", "search.weather"})
# What the best reading may be for an alternative to replace it.
REPLACEABLE = frozenset({"conversation", "unclear", "search.lookup", "out_of_scope"})


def _is(name: str, kinds: frozenset[str]) -> bool:
    return name in kinds or name.partition(".")[0] in kinds


# How sure the router must be of an alternative: well above the bar for the best reading
# (MIN_NAVIGATION_PROBABILITY), since it is the recogniser's second opinion.
MIN_ALTERNATIVE_PROBABILITY = 0.8
# ... and of one that names a place the car knows (exactly or nearly: "how far is bluebird
# coffee"): the name is evidence of its own, so the ordinary navigation bar.
MIN_NAMED_ALTERNATIVE_PROBABILITY = 0.6
MAX_ALTERNATIVES = 5


def route_heard(
    hypotheses: Sequence[str],
    cast: Iterable[Persona],
    *,
    model: IntentModel | None = None,
    places: KnownPlaces | None = None,
    min_probability: float = MIN_ALTERNATIVE_PROBABILITY,
) -> tuple[Intent, str]:
    """The intent of a spoken request given the recogniser's readings, best first, and the
    reading it came from. (`min_probability`: for the benchmark's comparison.)"""
    cast = list(cast)
    places = places if places is not None else sample_places()
    first = route(hypotheses[0], cast, model=model, places=places)
    if not _is(first.name, REPLACEABLE):
        return first, hypotheses[0]
    chosen: tuple[Intent, str] | None = None
    for text in hypotheses[1 : 1 + MAX_ALTERNATIVES]:
        intent = route(text, cast, model=model, places=places)
        bar = min_probability
        if str(intent.slots.get("place", "")) in places:  # a place the car knows
            bar = min(bar, MIN_NAMED_ALTERNATIVE_PROBABILITY)
        if (
            _is(intent.name, ACTING)
            and intent.confidence >= bar
            and (chosen is None or intent.confidence > chosen[0].confidence)
        ):
            chosen = (intent, text)
    return chosen or (first, hypotheses[0])

"""Kids mode reads like a person: disguised words, other languages, violence and drugs said
plainly or described, and local answers that carry someone else's words. The gate's
vocabulary is general; these sentences are this file's own."""

from __future__ import annotations

import pytest

from companion.config import BUNDLED_PERSONAS
from companion.events import ReplyDelta, SentenceReady
from companion.limits import KIDS_CHANGE_OF_SUBJECT
from companion.personas.content import find_adult_content, unfit_for_children
from companion.personas.loader import load_personas
from companion.personas.session import PersonaSession
from companion.turns import TurnPipeline
from tests.helpers import reply

DISGUISED = {
    "digits for letters": "The pirates found a p0rn magazine.",
    "symbols for letters": "Then the troll shouted $h!t at everyone.",
    "letters spaced out": "They laughed about s e x all day.",
    "letters dotted apart": "The bear said f.u.c.k and left.",
    "zero-width inside": "The wizard talked about n\u200bu\u200bd\u200be pictures.",
    "look-alike letters": "The goblin loved \u0440\u043e\u0433n videos.",  # Cyrillic p, o
    "full-width letters": "He yelled \uff53\uff48\uff49\uff54 at the moon.",
    "stretched letters": "The dragon said fuuuuuck.",
    "masked": "And the prince said f**k off.",
    "soft hyphens": "This is por\u00adno\u00adgra\u00adphy.",
}
OTHER_LANGUAGES = {
    "Spanish profanity": "El pirata dijo que todo era una mierda.",
    "Spanish drugs": "El ladrón vendía cocaína en el puerto.",
    "French profanity": "Le pirate a crié putain très fort.",
    "French violence": "Le loup a égorgé la chèvre.",
    "German profanity": "Der Drache sagte Scheiße zum Ritter.",
    "German violence": "Der Räuber hat den Bauern erstochen.",
}
MEANING = {
    "euphemism": "The prince and the maid made love in the tower.",
    "euphemism, other words": "Later that night she slept with him.",
    "graphic violence without a listed word": "He stabbed the guard and blood poured everywhere.",
    "violence, throat": "The soldier cut his throat with a knife.",
    # Found by the hostile MCP tool test (tests/test_mcp_tools.py): the present tense and
    # the doer of a listed verb were not read ("stabs", "killer").
    "violence, present tense": "The killer stabs people and blood sprays everywhere.",
    "drugs, taking them": "The wizard smoked marijuana behind the castle.",
    "drugs, overdose": "The rock star overdosed in his hotel.",
}
HARMLESS = [
    "Once upon a time a little duck lived by the pond.",
    "The brave knight killed the dragon and the village cheered.",
    "The pig gave a happy snort.",
    "The kite flew high above the hills.",
    "The kitten sleeps with her teddy bear.",
    "Count with me: 1, 2, 3, 4, 5!",
    "Turn left at the gas station, then 2 miles on Elm Street.",
    "The dead leaves crunched under their boots.",
    "Dickens wrote many books.",
    "She kicked the ball and shot it into the net.",
    "The snake hissed and slid away.",
]


@pytest.mark.parametrize(
    "sentence",
    [*DISGUISED.values(), *OTHER_LANGUAGES.values(), *MEANING.values()],
    ids=[*DISGUISED, *OTHER_LANGUAGES, *MEANING],
)
def test_the_gate_reads_through_disguises_languages_and_meaning(sentence):
    assert unfit_for_children(sentence), sentence


@pytest.mark.parametrize("sentence", HARMLESS)
def test_ordinary_childrens_sentences_pass(sentence):
    assert unfit_for_children(sentence) is None


def test_a_disguised_word_in_a_persona_file_is_found_too():
    assert find_adult_content({"description": "Tells s e x stories"})
    assert find_adult_content({"system_prompt": "Use \u0455\u0435\u0445 words freely."})


CAST, _ = load_personas(BUNDLED_PERSONAS)


async def test_no_disguised_sentence_is_shown_or_said_to_a_child(scripted, client_for):
    story = "Once upon a time there was a duck. " + " ".join(
        [*DISGUISED.values(), *OTHER_LANGUAGES.values(), *MEANING.values()]
    )
    for _ in range(3):
        scripted.add(reply(story))
    events: list = []
    session = PersonaSession(CAST, "kids_storyteller", kids_mode=True)
    turns = TurnPipeline(session, client_for(scripted.base_url), None, events.append)
    for _ in range(3):
        await turns.run_turn("tell me a story")
    shown = "".join(e.text for e in events if isinstance(e, ReplyDelta))
    said = [e.text for e in events if isinstance(e, SentenceReady)]
    for bad in [*DISGUISED.values(), *OTHER_LANGUAGES.values(), *MEANING.values()]:
        assert bad not in shown and bad not in said
    assert said.count("Once upon a time there was a duck.") == 3
    assert said.count(KIDS_CHANGE_OF_SUBJECT) == 3


async def test_a_local_answer_that_echoes_a_tools_words_is_gated(tmp_path, scripted):
    from tests.nav_helpers import Drive, llm_client

    scripted.add(reply(tool_call={"name": "navigate_to", "arguments": {"place": "Sh!tville"}}))
    drive = Drive(
        tmp_path,
        client=llm_client(scripted.base_url),
        kids_mode=True,
    )
    drive.pipeline.offer_tools = True
    said = await drive.say("let's go somewhere fun")
    assert "sh!t" not in said.lower() and said == KIDS_CHANGE_OF_SUBJECT
    shown = "".join(e.text for e in drive.events if isinstance(e, ReplyDelta))
    assert "Sh!t" not in shown
    await drive.close()

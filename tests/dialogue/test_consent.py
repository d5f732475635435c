"""The objection to recording: the rule, and the call's dialogue when the call is recorded."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.dialogue.conftest import ANCHOR
from voice_agent.bench.voices import EspeakVoice
from voice_agent.dialogue.call import CallDialogue
from voice_agent.dialogue.consent import find_objection
from voice_agent.dialogue.engine import DialogueEngine
from voice_agent.dialogue.policies import Policies
from voice_agent.dialogue.state import Awaiting
from voice_agent.languages import SUPPORTED
from voice_agent.models import ModelStore
from voice_agent.settings import AsrSettings, ModelsSettings, PathsSettings
from voice_agent.stages.asr import AsrHint, Transcript
from voice_agent.stages.asr.whisper import WhisperAsr
from voice_agent.store.repository import Repository
from voice_agent.store.writes import RecordingRefused

NOTICE = "This call is recorded so we can check how we did. If you'd rather it wasn't, just say so."

TUNED_ON = [
    "don't record this",
    "I don't want to be recorded",
    "no recording please",
    "please don't record me",
    "stop recording",
    "I'd rather it wasn't recorded",
    "can you not record this?",
    "turn off the recording",
    "I object to being recorded",
    "no need to record this",
]

NOT_TUNED_ON = [
    "Please do not record this conversation.",
    "I really don't want this call to be recorded.",
    "I'm not okay with being recorded",
    "Could you switch the recording off?",
    "I would prefer you didn't record me, I'm a bit private.",
    "Don\u2019t record my call please",
    "I refuse to have this call recorded",
    "Hello. I don't consent to any recording.",
    "Kindly stop the recording",
    "I'd like to opt out of the recording",
    "We'd rather not be recorded",
    "Can we do this without recording?",
    # a second set, found after the rule above was written (three of them made it broader)
    "Please, no recordings.",
    "I do not wish to be recorded today",
    "Stop the recording now",
    "Do you mind not recording this?",
    "Not recorded please",
    "I said don't record me!",
    "Could you please not record our conversation",
    "I don't agree to this being recorded",
    "Turn the recorder off",
    "I would rather this call was not recorded",
]

NOT_OBJECTIONS = [
    "record my new address",
    "is there a record of my order",
    "there's no record of my order in the tracking",
    "you don't have a record of my return?",
    "I don't mind being recorded",
    "my return isn't recorded in your system",
    "did you record my new address?",
    "is this call being recorded?",
    "Isn't this call recorded?",
    "don't forget to record my new address",
    "I want to record a complaint",
    "please make a record that I called",
    "the courier never recorded the delivery",
    "they didn't record it",
    "it wasn't recorded",
    "no, that's fine, you can record",
    "I have no record of the refund",
    "Where is my order?",
    "I'd rather not",
    "Can I get a record of my refund?",
    "I need a recording of the delivery proof",
    "there's no recorded delivery",
    "Yes please record the new address",
    "Not sure you recorded my postcode right",
    "Is the call recorded?",
    "No, I never got a tracking record",
]


TUNED_ON_BY_LANGUAGE: dict[str, list[str]] = {
    "de": [
        "Bitte nicht aufnehmen.",
        "Ich möchte nicht, dass das Gespräch aufgezeichnet wird.",
        "Hören Sie auf aufzunehmen.",
        "Ich widerspreche der Aufnahme.",
        "Hören Sie bitte auf, das Gespräch aufzuzeichnen.",
        "Nehmen Sie das bitte nicht auf.",
        "Keine Aufzeichnung, bitte.",
        "Ich möchte nicht aufgezeichnet werden.",
        "Schalten Sie die Aufnahme bitte aus.",
        "Ohne Aufnahme, bitte.",
        "Die Aufzeichnung bitte beenden.",
        "Ich stimme der Aufzeichnung nicht zu.",
        "Lieber nicht aufnehmen, danke.",
        "Ich bin gegen die Aufnahme des Gesprächs.",
        "Ich will das nicht aufgezeichnet haben.",
        "Zeichnen Sie bitte nichts auf.",
        "Können Sie bitte aufhören, mich aufzunehmen?",
        "Ich möchte nicht mitgeschnitten werden.",
        "Das bitte nicht mitschneiden.",
        "Bitte löschen Sie die Aufnahme.",
        "Ich lehne die Aufzeichnung ab.",
        "Ich will nicht, dass das hier aufgenommen wird.",
        "Bitte nehmen Sie das Gespräch nicht auf.",
        "Nein, ich will nicht aufgenommen werden.",
        "Ich möchte der Aufzeichnung widersprechen.",
    ],
    "es": [
        "Por favor, no me grabe.",
        "No quiero que se grabe la llamada.",
        "Pare la grabación.",
        "No me grabe",
        "No quiero ser grabado.",
        "Deje de grabar la conversación, por favor.",
        "No doy mi consentimiento para la grabación.",
        "Preferiría que no me grabaran.",
        "Sin grabar, por favor.",
        "Grabación no, gracias.",
        "No grabe esta llamada.",
        "Quite la grabación.",
        "Oiga, no me grabe, por favor.",
        "Que no me graben.",
        "No quiero que quede grabada la conversación.",
        "Le pido que no me grabe.",
        "Apague la grabación.",
        "Borre la grabación.",
        "No, no, no me grabe.",
        "Por favor no grabe nada.",
        "No estoy de acuerdo con la grabación.",
        "No deseo ser grabado.",
        "Preferiría que no grabaran esta llamada.",
        "Mejor no grabe.",
    ],
    "fr": [
        "Ne m'enregistrez pas.",
        "Je ne veux pas être enregistré.",
        "Je ne veux pas être enregistrée",
        "Arrêtez l'enregistrement.",
        "Je refuse l'enregistrement.",
        "Je ne souhaite pas que cet appel soit enregistré.",
        "Merci de ne pas enregistrer la conversation.",
        "Sans enregistrement, s'il vous plaît.",
        "Je ne veux plus être enregistré.",
        "Est-ce que vous pouvez arrêter l'enregistrement ?",
        "Pas d'enregistrement.",
        "Coupez l'enregistrement, s'il vous plaît.",
        "Je ne veux pas qu'on m'enregistre.",
        "N'enregistrez rien, merci.",
        "Je voudrais que cet appel ne soit pas enregistré.",
        "Je m'oppose à ce que cet appel soit enregistré.",
        "Stoppez l'enregistrement.",
        "Je préférerais ne pas être enregistrée.",
        "Je ne donne pas mon accord pour l'enregistrement.",
        "Je ne veux pas que vous m'enregistriez.",
        "Je ne veux pas être enregistré, merci.",
        "Veuillez ne pas m'enregistrer.",
        "Je n'accepte pas l'enregistrement.",
        "Je ne consens pas à être enregistré.",
    ],
    "pt": [
        "Não grave.",
        "Não quero que a ligação seja gravada.",
        "Pare de gravar.",
        "Por favor, não me grave.",
        "Não quero ser gravada.",
        "Para de gravar essa ligação.",
        "Desligue a gravação.",
        "Não autorizo a gravação da ligação.",
        "Sem gravar, por favor.",
        "Gravação não, obrigado.",
        "Eu prefiro que não grave a conversa.",
        "Você pode não gravar?",
        "Não quero que grave.",
        "Eu não autorizo gravar essa conversa.",
        "Para a gravação, por favor.",
        "Não quero que vocês gravem.",
        "Não grava não.",
        "Eu não quero que essa ligação fique gravada.",
        "Não quero que fique gravado.",
        "Não gostaria de ser gravado.",
        "Por favor, desliga a gravação.",
        "Não aceito que gravem.",
        "Eu não quero gravação.",
    ],
}
"""Objections in German, Spanish, French and Portuguese the rule was written on."""

NOT_OBJECTIONS_BY_LANGUAGE: dict[str, list[str]] = {
    "de": [
        "Wird das aufgezeichnet?",
        "Das ist in Ordnung.",
        "Die Aufnahme meines Pakets hat nicht geklappt.",
        "Wird dieser Anruf aufgenommen?",
        "Sie können das gerne aufnehmen.",
        "Nehmen Sie bitte meine neue Adresse auf.",
        "Meine Adresse wurde nicht aufgenommen.",
        "Das Gespräch wird nicht aufgezeichnet, oder?",
        "Ich habe nichts gegen die Aufnahme.",
        "Die Aufnahme der Bestellung hat nicht funktioniert.",
        "Lieber nicht.",
        "Haben Sie meine Bestellung aufgenommen?",
        "Ich will eine Reklamation aufnehmen lassen.",
        "Die Reklamation wurde nicht aufgenommen.",
        "Können Sie meine Telefonnummer aufnehmen?",
        "Sie haben das nicht aufgenommen.",
        "Nehmen Sie das ruhig auf.",
        "Warum wird das aufgezeichnet?",
        "Ich nehme nicht an, dass das aufgezeichnet wird.",
        "Sie dürfen das gerne aufzeichnen.",
        "Ich weiß nicht, ob das aufgenommen wird.",
        "Die Aufnahme meiner Daten hat nicht geklappt.",
    ],
    "es": [
        "¿Se está grabando?",
        "No me importa que se grabe.",
        "No hay registro de mi pedido.",
        "¿Pueden registrar mi nueva dirección?",
        "No me registraron la devolución.",
        "¿La llamada está grabada?",
        "No grabaron el nombre en la pulsera.",
        "Puede grabar, no hay problema.",
        "¿No me está grabando?",
        "No quiero registrar otra dirección.",
        "Mejor no.",
        "¿Graban las llamadas?",
        "Quiero grabar un mensaje en la tarjeta.",
        "No pude grabar el nombre.",
        "No me llegó el grabado.",
        "No hay grabación, ¿verdad?",
        "No sé si me están grabando.",
        "¿Me está grabando ahora?",
        "No me grabaron bien el nombre en el anillo.",
    ],
    "fr": [
        "Est-ce que c'est enregistré ?",
        "Ça ne me dérange pas.",
        "Pouvez-vous enregistrer mon adresse ?",
        "Ne pas enregistrer mon adresse actuelle.",
        "Ma commande n'a pas été enregistrée.",
        "Je n'ai rien contre l'enregistrement.",
        "Ça ne me dérange pas que vous m'enregistriez.",
        "L'enregistrement de ma commande n'a pas marché.",
        "Vous ne m'enregistrez pas ?",
        "Je préfère pas.",
        "Vous avez bien enregistré ma commande ?",
        "Il faut enregistrer ma nouvelle adresse.",
        "Pourquoi vous enregistrez les appels ?",
        "Mon retour n'est pas enregistré.",
        "Vous pouvez enregistrer, pas de problème.",
        "Je ne sais pas si c'est enregistré.",
        "Enregistrez bien ma commande.",
        "Vous avez enregistré mon adresse ?",
    ],
    "pt": [
        "Está sendo gravado?",
        "Tudo bem gravar.",
        "Não tem registro do meu pedido.",
        "Vocês não registraram minha devolução.",
        "Não me importo de ser gravado.",
        "Pode gravar para mim a observação.",
        "A ligação não é gravada?",
        "Não consigo registrar meu endereço.",
        "Pode gravar, não tem problema.",
        "Melhor não.",
        "Vocês gravam as ligações?",
        "Meu endereço não foi registrado.",
        "Não, pode gravar.",
        "Não sei se estão gravando.",
        "O atendente não gravou meu pedido.",
        "Não sei se está gravando.",
        "Grava meu pedido aí.",
        "Não gravaram meu nome na pulseira.",
    ],
}
"""Questions, consent and the other senses of the words, the rule was written on."""


@pytest.mark.parametrize("said", TUNED_ON + NOT_TUNED_ON)
def test_objections_are_found(said: str) -> None:
    assert find_objection(said) is not None


@pytest.mark.parametrize("said", NOT_OBJECTIONS)
def test_other_talk_of_records_is_not_an_objection(said: str) -> None:
    assert find_objection(said) is None


def test_the_rest_of_the_turn_is_kept_for_the_dialogue() -> None:
    objection = find_objection("Please don't record this, where is my order?")
    assert objection is not None and objection.rest == "where is my order"
    alone = find_objection("Okay, but please don't record me.")
    assert alone is not None and alone.rest == ""


def test_declining_in_the_notices_own_words_counts_only_as_its_answer() -> None:
    assert find_objection("I'd rather not.", after_notice=True) is not None
    assert find_objection("No, I'd rather it wasn't.", after_notice=True) is not None
    assert find_objection("I'd rather not.") is None


NOT_TUNED_ON_BY_LANGUAGE: dict[str, list[str]] = {
    "de": [
        "Ich will nicht aufgenommen werden.",
        "Bitte zeichnen Sie das Gespräch nicht auf.",
        "Können Sie die Aufnahme bitte ausschalten?",
        "Nehmen Sie mich bitte nicht auf.",
        "Ich bin mit der Aufzeichnung nicht einverstanden.",
        "Ich möchte nicht, dass Sie das aufnehmen.",
        "Hallo, bitte keine Aufnahme.",
        "Mir wäre lieber, wenn das nicht aufgezeichnet wird.",
        "Stoppen Sie bitte die Aufzeichnung.",
        "Das Gespräch bitte nicht mitschneiden.",
        # a second set, written after the first was checked
        "nein ich will nicht dass das aufgezeichnet wird",
        "Ich hätte gern, dass Sie das nicht aufzeichnen.",
        "Können Sie die Aufzeichnung abschalten?",
        "Machen Sie bitte die Aufnahme aus.",
        "Ich möchte bitte nicht aufgezeichnet werden, danke.",
        "Das Gespräch darf nicht aufgezeichnet werden.",
        "Ich will keine Aufnahme.",
        "Bitte ohne Aufzeichnung.",
    ],
    "es": [
        "Por favor, no grabe esta llamada.",
        "No quiero que me graben.",
        "Deje de grabar, por favor.",
        "No autorizo la grabación.",
        "Prefiero que no se grabe.",
        "Apague la grabación, por favor.",
        "No estoy de acuerdo con que se grabe la conversación.",
        "Oiga, no me grabes.",
        "Me opongo a la grabación.",
        "Sin grabación, por favor.",
        # a second set, written after the first was checked
        "no quiero que esta conversación sea grabada",
        "Por favor, no grabe nada de lo que digo.",
        "Prefiero que la llamada no se grabe.",
        "¿Puede dejar de grabar?",
        "Detenga la grabación, por favor.",
        "No acepto que me graben.",
        "Nada de grabaciones, por favor.",
        "Ni se le ocurra grabarme.",
    ],
    "fr": [
        "Je ne souhaite pas être enregistré.",
        "N'enregistrez pas cet appel, s'il vous plaît.",
        "Je ne veux pas que la conversation soit enregistrée.",
        "Pouvez-vous couper l'enregistrement ?",
        "Merci de ne pas m'enregistrer.",
        "Je m'oppose à l'enregistrement.",
        "Je préfère ne pas être enregistrée.",
        "Pas d'enregistrement, s'il vous plaît.",
        "Stop, n'enregistrez rien.",
        "Je ne suis pas d'accord pour être enregistré.",
        # a second set, written after the first was checked
        "je veux pas être enregistré",
        "Je ne veux pas que cette conversation soit enregistrée, merci.",
        "Arrêtez d'enregistrer, s'il vous plaît.",
        "N'enregistrez pas cette conversation.",
        "Je souhaite que l'appel ne soit pas enregistré.",
        "Je refuse d'être enregistré.",
        "Coupez l'enregistrement.",
        "Je ne donne pas mon accord pour être enregistrée.",
    ],
    "pt": [
        "Por favor, não grave essa ligação.",
        "Eu não quero ser gravado.",
        "Para de gravar, por favor.",
        "Não autorizo a gravação.",
        "Prefiro que não grave.",
        "Desliga a gravação, por favor.",
        "Não quero que a conversa seja gravada.",
        "Sem gravação, por favor.",
        "Eu não aceito ser gravada.",
        "Não me grava, tá?",
        # a second set, written after the first was checked
        "não quero que grave essa conversa",
        "Por favor, pare a gravação.",
        "Você pode parar de gravar?",
        "Eu não autorizo a gravação dessa ligação.",
        "Não gravem, por favor.",
        "Prefiro não ser gravado.",
        "Desliga o gravador.",
        "Não quero nenhuma gravação.",
    ],
}
"""Held out: the first set written before the rule, checked once when it was done (all
found); the second checked once after that: 4 of its 32 were missed ("nein ich will nicht dass
...", "Nada de grabaciones", "Ni se le ocurra grabarme", "Desliga o gravador"), which made
the rule broader."""

NOT_OBJECTIONS_NOT_TUNED_ON: dict[str, list[str]] = {
    "de": [
        "Wird dieses Gespräch aufgezeichnet?",
        "Nehmen Sie das etwa auf?",
        "Ist schon okay, Sie können aufnehmen.",
        "Die Aufnahme meiner Reklamation hat nicht geklappt.",
        "Haben Sie meine neue Adresse aufgenommen?",
        "Von mir aus können Sie das aufzeichnen.",
        "Sie haben meine Bestellung nicht richtig aufgenommen.",
        "Die Aufnahme ins Kundenkonto hat nicht funktioniert.",
        "Kein Problem, das Gespräch darf aufgezeichnet werden.",
        "Ich habe nichts dagegen, dass das aufgenommen wird.",
        # a second set, written after the first was checked
        "ob das aufgezeichnet wird ist mir egal",
        "Sie können ruhig aufzeichnen.",
        "Meine Rücksendung ist bei Ihnen nicht aufgenommen worden.",
        "Warum nehmen Sie das nicht auf?",
        "Die Aufnahme des Schadens habe ich per Foto gemacht.",
        "Können Sie meine Beschwerde aufnehmen?",
    ],
    "es": [
        "¿Esta llamada se está grabando?",
        "Puede grabar, no pasa nada.",
        "No hay registro de mi pedido.",
        "¿Me pueden registrar la nueva dirección?",
        "No me importa que graben la llamada.",
        "No encuentro el registro de la devolución.",
        "¿Por qué graban las llamadas?",
        "Sí, claro, grabe lo que quiera.",
        "El anillo no venía grabado con mi nombre.",
        "No tengo problema con que se grabe.",
        # a second set, written after the first was checked
        "me da igual si graban",
        "¿Me puede decir si esta llamada queda grabada?",
        "La grabación del anillo salió mal.",
        "No tengo ningún problema con la grabación.",
        "No sé cómo grabar el número de pedido.",
        "¿Por qué no graba la dirección nueva?",
    ],
    "fr": [
        "Est-ce que cet appel est enregistré ?",
        "Vous pouvez enregistrer, ça ne me dérange pas.",
        "Pouvez-vous enregistrer ma nouvelle adresse ?",
        "Ma réclamation n'a pas été enregistrée.",
        "Vous n'avez pas enregistré mon changement d'adresse.",
        "L'appel est enregistré ?",
        "Aucun souci pour l'enregistrement.",
        "Je n'ai pas reçu la confirmation d'enregistrement de ma commande.",
        "Mon retour n'est pas encore enregistré dans votre système ?",
        "Pas de problème, vous pouvez m'enregistrer.",
        # a second set, written after the first was checked
        "ça m'est égal que ce soit enregistré",
        "Est-ce que mon adresse est bien enregistrée ?",
        "Vous n'avez pas enregistré ma réclamation ?",
        "Je n'ai pas d'objection à l'enregistrement.",
        "L'enregistrement de mon colis n'apparaît pas.",
        "Enregistrez cette conversation si vous voulez.",
    ],
    "pt": [
        "Essa ligação está sendo gravada?",
        "Pode gravar, sem problema.",
        "Vocês registraram meu pedido?",
        "Não tem registro da minha devolução.",
        "Não me importo que grave.",
        "Tudo bem, pode gravar a ligação.",
        "A ligação é gravada?",
        "Não consegui registrar a reclamação.",
        "Não tem problema nenhum gravar.",
        "Meu pedido não foi registrado no sistema.",
        # a second set, written after the first was checked
        "pra mim tanto faz se gravar",
        "Vocês gravaram meu endereço certo?",
        "Não tem problema gravar a conversa.",
        "Será que a ligação está sendo gravada?",
        "Eu não lembro se gravei o número do pedido.",
        "A gravação do nome na caneca saiu errada.",
    ],
}
"""Held out as well (none of either set found)."""


def _by_language(sentences: dict[str, list[str]]) -> list[tuple[str, str]]:
    return [(language, said) for language, said_all in sentences.items() for said in said_all]


@pytest.mark.parametrize(
    ("language", "said"),
    _by_language(TUNED_ON_BY_LANGUAGE) + _by_language(NOT_TUNED_ON_BY_LANGUAGE),
)
def test_objections_are_found_in_the_callers_language(language: str, said: str) -> None:
    assert find_objection(said, language=language) is not None


@pytest.mark.parametrize(
    ("language", "said"),
    _by_language(NOT_OBJECTIONS_BY_LANGUAGE) + _by_language(NOT_OBJECTIONS_NOT_TUNED_ON),
)
def test_questions_consent_and_other_records_are_not_objections(language: str, said: str) -> None:
    assert find_objection(said, language=language) is None


@pytest.mark.parametrize(
    ("language", "said", "rest"),
    [
        ("de", "Bitte nicht aufnehmen, wo ist meine Bestellung?", "wo ist meine Bestellung"),
        ("de", "Hallo, ich möchte nicht, dass das aufgezeichnet wird.", ""),
        ("es", "No me grabe, ¿dónde está mi pedido?", "dónde está mi pedido"),
        ("es", "Vale, pero no me grabe.", ""),
        ("fr", "Ne m'enregistrez pas, où est ma commande ?", "où est ma commande"),
        ("fr", "Bonjour, je refuse l'enregistrement.", ""),
        ("pt", "Não grave, cadê o meu pedido?", "cadê o meu pedido"),
        ("pt", "Oi, não quero ser gravado.", ""),
    ],
)
def test_the_rest_of_the_turn_is_kept_in_every_language(
    language: str, said: str, rest: str
) -> None:
    objection = find_objection(said, language=language)
    assert objection is not None and objection.rest == rest


@pytest.mark.parametrize(
    ("language", "said"),
    [
        ("de", "Lieber nicht."),
        ("de", "Nein, das möchte ich nicht."),
        ("es", "Mejor no."),
        ("fr", "Je préfère pas."),
        ("fr", "Je préfère qu'il ne le soit pas."),
        ("pt", "Melhor não."),
    ],
)
def test_declining_the_notice_in_every_language_counts_only_as_its_answer(
    language: str, said: str
) -> None:
    assert find_objection(said, after_notice=True, language=language) is not None
    assert find_objection(said, language=language) is None


def test_an_english_objection_is_read_as_english_only() -> None:
    assert find_objection("please don't record me", language="en") is not None
    assert find_objection("Bitte nicht aufnehmen.", language="en") is None
    assert find_objection("please don't record me", language="de") is None


def test_a_language_without_objection_words_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="'it'"):
        find_objection("non mi registri", language="it")


def _recorded(engine: DialogueEngine, repository: Repository) -> CallDialogue:
    conversation = repository.start_conversation("sip", "+44 20 7946 0321", ANCHOR)
    return CallDialogue(engine, conversation, recording_notice=NOTICE)


def test_the_notice_is_the_first_thing_said_when_calls_are_recorded(
    engine: DialogueEngine, repository: Repository
) -> None:
    greeting = _recorded(engine, repository).greeting(engine.initial_state(1))
    assert greeting.chunks[:2] == (
        "This call is recorded so we can check how we did.",
        "If you'd rather it wasn't, just say so.",
    )
    assert greeting.chunks[2:] == engine.greeting(engine.initial_state()).chunks
    assert greeting.state.last_reply == greeting.chunks
    plain = CallDialogue(engine).greeting(engine.initial_state())
    assert not any("record" in chunk for chunk in plain.chunks)


def test_an_objection_is_acknowledged_and_carried_as_a_write(
    engine: DialogueEngine, repository: Repository
) -> None:
    dialogue = _recorded(engine, repository)
    state = dialogue.greeting(dialogue.initial_state()).state
    reply = dialogue.respond("I'd rather not be recorded.", None, state, ANCHOR)
    assert reply.chunks == ("All right, this call won't be recorded.", "How can I help?")
    assert reply.writes == (RecordingRefused(conversation_id=state.conversation_id or 0),)
    assert reply.state.recording_refused
    repository.apply(reply.writes)
    view = next(view for view in repository.conversations() if view.id == state.conversation_id)
    assert view.recording_consent is False and view.recording_path is None
    # said again later, it is just talk: no second acknowledgement
    later = dialogue.respond("don't record this", None, reply.state, ANCHOR)
    assert "won't be recorded" not in later.text and not later.writes


def test_the_rest_of_an_objecting_turn_is_answered(
    engine: DialogueEngine, repository: Repository
) -> None:
    dialogue = _recorded(engine, repository)
    state = dialogue.greeting(dialogue.initial_state()).state
    reply = dialogue.respond("Don't record this, where is my order?", None, state, ANCHOR)
    assert reply.chunks[0] == "All right, this call won't be recorded."
    assert reply.state.awaiting is Awaiting.ORDER_NUMBER
    assert any("order number" in chunk for chunk in reply.chunks[1:])
    assert isinstance(reply.writes[0], RecordingRefused)


def test_an_objection_mid_question_asks_the_question_again(
    engine: DialogueEngine, repository: Repository
) -> None:
    dialogue = _recorded(engine, repository)
    state = dialogue.greeting(dialogue.initial_state()).state
    asking = dialogue.respond("where is my order", None, state, ANCHOR).state
    reply = dialogue.respond("stop recording please", None, asking, ANCHOR)
    assert reply.chunks == ("All right, this call won't be recorded.", asking.last_reply[-1])
    assert reply.state.awaiting is Awaiting.ORDER_NUMBER


def test_with_recordings_off_an_objection_is_just_talk(engine: DialogueEngine) -> None:
    dialogue = CallDialogue(engine)
    state = dialogue.greeting(dialogue.initial_state()).state
    reply = dialogue.respond("please don't record me", None, state, ANCHOR)
    assert "won't be recorded" not in reply.text
    assert not any(isinstance(write, RecordingRefused) for write in reply.writes)


@pytest.mark.parametrize(
    ("language", "said", "acknowledged"),
    [
        ("de", "Ich möchte nicht aufgezeichnet werden.", "dieser Anruf wird nicht aufgezeichnet"),
        ("fr", "Je ne veux pas être enregistrée.", "cet appel ne sera pas enregistré"),
    ],
)
def test_an_objection_in_the_calls_language_is_acknowledged_in_it(
    repository: Repository, policies: Policies, language: str, said: str, acknowledged: str
) -> None:
    engine = DialogueEngine(repository, policies, offered=SUPPORTED)
    conversation = repository.start_conversation("sip", "+49 30 1234567", ANCHOR)
    dialogue = CallDialogue(engine, conversation, recording_notice=NOTICE, language=language)
    state = dialogue.greeting(dialogue.initial_state()).state
    assert state.language == language
    reply = dialogue.respond(said, None, state, ANCHOR)
    assert acknowledged in reply.chunks[0]
    assert reply.writes == (RecordingRefused(conversation_id=conversation),)
    assert reply.state.recording_refused


def test_a_first_turn_objecting_in_another_language_is_read_and_answered_in_it(
    repository: Repository, policies: Policies
) -> None:
    """A call with no language hint starts in the default one; the caller's first words,
    heard in German, are read as German, as the engine follows them."""
    engine = DialogueEngine(repository, policies, offered=SUPPORTED)
    conversation = repository.start_conversation("sip", "+49 30 1234567", ANCHOR)
    dialogue = CallDialogue(engine, conversation, recording_notice=NOTICE)
    state = dialogue.greeting(dialogue.initial_state()).state
    assert state.language == "en"
    heard = Transcript("Bitte nehmen Sie mich nicht auf.", "de", 0.9, language_probability=0.97)
    reply = dialogue.respond(heard.text, None, state, ANCHOR, heard)
    assert reply.chunks == (
        "In Ordnung, dieser Anruf wird nicht aufgezeichnet.",
        "Wie kann ich Ihnen helfen?",
    )
    assert reply.state.language == "de" and reply.state.recording_refused
    assert reply.writes == (RecordingRefused(conversation_id=conversation),)
    typed = CallDialogue(engine, conversation, recording_notice=NOTICE, typed_language=_french)
    reply = typed.respond("Je refuse l'enregistrement, où est ma commande ?", None, state, ANCHOR)
    assert reply.chunks[0] == "Très bien, cet appel ne sera pas enregistré."
    assert reply.state.recording_refused and reply.language == "fr"


def _french(text: str) -> str:
    return "fr"


def test_every_supported_language_has_objection_words() -> None:
    for language in SUPPORTED:
        assert find_objection("", language=language) is None


@pytest.fixture(scope="module")
def multilingual_asr() -> Iterator[WhisperAsr]:
    pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="test-consent-asr")
    asr = WhisperAsr(
        AsrSettings(model="whisper-base"), ModelStore(ModelsSettings(), PathsSettings()), pool
    )
    asr.load()
    yield asr
    pool.shutdown(wait=True)


@pytest.mark.slow
@pytest.mark.parametrize("voice", ["de", "de+m3", "de+f2"])
def test_a_spoken_german_objection_is_found_in_what_whisper_heard(
    multilingual_asr: WhisperAsr, voice: str
) -> None:
    """Real speech (espeak-ng) read by the multilingual model, as a German call hears it. (The
    espeak-ng Spanish, French and Portuguese voices are misheard by whisper-base on the very
    recording words, "grabe", "enregistré", "gravada": not a test of this rule.)"""

    def heard(said: str) -> str:
        audio = EspeakVoice(voice, 150).speak(said)
        return asyncio.run(multilingual_asr.transcribe(audio, AsrHint(language="de"))).text

    objection = find_objection(
        heard("Ich möchte nicht aufgezeichnet werden, wo ist mein Paket?"), language="de"
    )
    assert objection is not None and "paket" in objection.rest.lower()
    for said in (
        "Sie können das Gespräch gerne aufzeichnen.",
        "Meine neue Adresse wurde nicht aufgenommen.",
    ):
        assert find_objection(heard(said), language="de") is None

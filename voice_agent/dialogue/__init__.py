"""The dialogue engine: text in, text chunks out, for a verified caller's order questions.

``engine.DialogueEngine(repository, policies, language)`` answers one ``state.UserTurn`` with a
``state.Reply`` (chunks, the writes it implies, the next state, what it expects next); nothing
is stored until the caller of the engine commits the reply. ``nlu`` and ``entities`` read what
the caller said, ``verification``, ``orders``, ``products`` and ``handoff`` are the flows,
``policies`` reads config/policies.toml, ``replies`` holds what is said per language, ``call``
adapts the engine to the call session, and ``commands`` is `voice-agent chat`.
"""

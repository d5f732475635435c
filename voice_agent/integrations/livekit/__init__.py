"""The agent's pipeline as LiveKit Agents plugins and a worker (docs/livekit.md).

This package is the only one in the project that imports LiveKit; importing the package
itself does not (the CLI registers `livekit-worker` from commands.py without loading LiveKit).

- vad.py, stt.py, tts.py, llm.py: LiveKit's VAD, STT, TTS and LLM interfaces over our VAD,
  streaming Whisper, Piper and dialogue engine (turns.py keeps a session's dialogue);
- agent.py: the AgentSession of those parts and the agent that greets and says goodbye;
- worker.py: prewarm, load, entrypoint and drain of `voice-agent livekit-worker`;
- config.py: the server and credentials, checked before anything connects.
"""

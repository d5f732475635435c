"""Adapters that let other frameworks run the agent's stages and dialogue (livekit/)."""

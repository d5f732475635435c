"""voice_agent: a self-hosted real-time voice agent for customer support."""

from pathlib import Path

__version__ = "0.1.0"

# The project is installed editable: config/ and models/ live beside the package.
PROJECT_ROOT = Path(__file__).resolve().parent.parent

"""Persona files: loading and validation (the files themselves live in /personas)."""

from .loader import Persona, PersonaError, Voice, load_persona, load_personas

__all__ = ["Persona", "PersonaError", "Voice", "load_persona", "load_personas"]

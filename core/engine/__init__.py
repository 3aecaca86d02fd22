"""The dialogue engine: decides what to answer to each turn."""

from core.engine.base import Decision, Engine, Reply, Turn

__all__ = ["Decision", "Engine", "Reply", "Turn"]

"""The agent console: a server-rendered web inbox for support agents and the social team, under ``/console``."""

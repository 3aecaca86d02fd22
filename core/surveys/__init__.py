"""Follow-ups after support: satisfaction surveys when a ticket is solved, reminders while it waits.

Modules import what they need directly; this package imports nothing, so the engine can
use :mod:`core.surveys.answers` without loading the ticket service.
"""

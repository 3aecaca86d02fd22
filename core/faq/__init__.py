"""Bilingual FAQ matching: knowledge base, hybrid lexical + embedding retrieval, calibrated outcomes."""

"""Typewriter tasks: ``typewriter_single`` (one tool) and ``typewriter_26`` (a tool per letter)."""

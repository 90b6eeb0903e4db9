"""Multiverse Math: arithmetic with altered semantics, solved by composing tools."""

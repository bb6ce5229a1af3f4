"""Hostile input: one test per finding of the security review (issue 10)."""

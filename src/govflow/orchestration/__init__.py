"""Orchestration: the only package importing temporalio. Workflows own time."""

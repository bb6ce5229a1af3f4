"""The application layer: use cases, queries, audit. Synchronous."""

from govflow.application.governance import Governance

__all__ = ["Governance"]

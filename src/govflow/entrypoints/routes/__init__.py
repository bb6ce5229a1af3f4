"""The HTTP API's routes: one module per resource, each with a module-level ``router``."""

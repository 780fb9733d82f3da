"""The FastAPI edge of a node: thin routes over the core and the ports."""

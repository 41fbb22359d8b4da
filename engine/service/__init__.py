"""Long-running faces of a knowledge base: serve (the CDS Hooks service).

The top room with the command line: it may use every room below it, and none uses it."""

"""The engine process: start-up, the HTTP API (A1111-compatible and Maple's own), the worker queue."""

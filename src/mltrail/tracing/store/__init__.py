"""Trace stores: the ``TraceStore`` port (``base``) and its SQL and REST adapters."""

"""Settings of one scoring server: address, processes, timeout and micro-batching.

Built once by the entry point (the ``mltrail models serve`` command or a caller of
:func:`mltrail.scoring.server.serve`) and passed down; nothing here reads the environment.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["BatchingMode", "ScoringSettings"]

BatchingMode = Literal["auto", "on", "off"]


class ScoringSettings(BaseModel):
    """How a scoring server runs.

    Attributes:
        host: Interface to listen on.
        port: TCP port.
        workers: Server processes, each with its own copy of the model.
        timeout: Seconds a request may take before the server answers 504.
        batching: ``"auto"`` groups concurrent requests only when the model declares that it
            handles batches (``batchable: true`` in the MLmodel ``python_function`` config, or a
            ``batchable = True`` attribute on the model object); ``"on"`` always; ``"off"`` never.
        max_batch_size: Most rows one grouped predict call receives.
        max_batch_delay_ms: Longest a request waits for others to join its batch.
        threads: Threads that run predictions (per process).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    host: str = "127.0.0.1"
    port: int = Field(default=5000, ge=0, le=65535)
    workers: int = Field(default=1, ge=1)
    timeout: float = Field(default=60.0, gt=0)
    batching: BatchingMode = "auto"
    max_batch_size: int = Field(default=64, ge=1)
    max_batch_delay_ms: float = Field(default=5.0, ge=0)
    threads: int = Field(default=4, ge=1)

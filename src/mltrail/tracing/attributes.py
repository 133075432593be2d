"""Every span attribute, trace metadata and trace tag key the tracing SDK writes or reads.

The keys keep MLflow's ``mlflow.*`` names because they travel on the MLflow wire protocol
(spec TRACING.md §1): an MLflow client or server must read them unchanged.
"""

from __future__ import annotations

import enum

__all__ = [
    "CHUNK_EVENT_PREFIX",
    "CHUNK_VALUE",
    "EXCEPTION_EVENT",
    "TRACE_SCHEMA_VERSION",
    "SpanType",
]


class SpanType(enum.StrEnum):
    """Kinds of span (``mlflow.spanType``); any other string is allowed too."""

    LLM = "LLM"
    CHAT_MODEL = "CHAT_MODEL"
    CHAIN = "CHAIN"
    AGENT = "AGENT"
    TOOL = "TOOL"
    RETRIEVER = "RETRIEVER"
    EMBEDDING = "EMBEDDING"
    RERANKER = "RERANKER"
    PARSER = "PARSER"
    MEMORY = "MEMORY"
    WORKFLOW = "WORKFLOW"
    TASK = "TASK"
    GUARDRAIL = "GUARDRAIL"
    EVALUATOR = "EVALUATOR"
    UNKNOWN = "UNKNOWN"


# -- span attributes (values are JSON-encoded strings inside the OTel span) -------------------
TRACE_REQUEST_ID = "mlflow.traceRequestId"
SPAN_TYPE = "mlflow.spanType"
SPAN_INPUTS = "mlflow.spanInputs"
SPAN_OUTPUTS = "mlflow.spanOutputs"
SPAN_FUNCTION_NAME = "mlflow.spanFunctionName"
SPAN_DESCRIPTION = "mlflow.spanDescription"
CHAT_TOOLS = "mlflow.chat.tools"
CHAT_TOKEN_USAGE = "mlflow.chat.tokenUsage"
LLM_COST = "mlflow.llm.cost"
LLM_MODEL = "mlflow.llm.model"
LLM_PROVIDER = "mlflow.llm.provider"
MESSAGE_FORMAT = "mlflow.message.format"
EXPERIMENT_ID = "mlflow.experimentId"
TRACE_TAG_PREFIX = "mlflow.traceTag."
USER_ID = "user.id"
SESSION_ID = "session.id"

MLFLOW_PREFIX = "mlflow."
"""Attributes under this prefix hold JSON text in the OTel span and native values in SpanData."""

# -- span events ------------------------------------------------------------------------------
CHUNK_EVENT_PREFIX = "mlflow.chunk.item."
CHUNK_VALUE = "mlflow.chunk.value"
EXCEPTION_EVENT = "exception"
EXCEPTION_TYPE = "exception.type"
EXCEPTION_MESSAGE = "exception.message"
EXCEPTION_STACKTRACE = "exception.stacktrace"

# -- token usage keys -------------------------------------------------------------------------
INPUT_TOKENS = "input_tokens"
OUTPUT_TOKENS = "output_tokens"
TOTAL_TOKENS = "total_tokens"
INPUT_COST = "input_cost"
OUTPUT_COST = "output_cost"
TOTAL_COST = "total_cost"

# -- trace metadata ---------------------------------------------------------------------------
TRACE_SCHEMA_VERSION_KEY = "mlflow.trace_schema.version"
TRACE_SCHEMA_VERSION = "3"
SOURCE_RUN = "mlflow.sourceRun"
TRACE_USER = "mlflow.trace.user"
TRACE_SESSION = "mlflow.trace.session"
TRACE_TOKEN_USAGE = "mlflow.trace.tokenUsage"
TRACE_COST = "mlflow.trace.cost"
TRACE_SIZE_BYTES = "mlflow.trace.sizeBytes"

# -- trace tags -------------------------------------------------------------------------------
TRACE_NAME = "mlflow.traceName"
ARTIFACT_LOCATION = "mlflow.artifactLocation"
SPANS_LOCATION = "mlflow.trace.spansLocation"

# -- attachments ------------------------------------------------------------------------------
ATTACHMENT_SCHEME = "mlflow-attachment"
ATTACHMENTS_DIR = "attachments"

MAX_PREVIEW_CHARS = 1000
MAX_METADATA_VALUE_CHARS = 250

"""Reserved trace metadata, tag and span attribute keys of MLflow's tracing protocol (spec TRACING §1)."""

from __future__ import annotations

# Span attributes.
SPAN_TYPE = "mlflow.spanType"
SPAN_INPUTS = "mlflow.spanInputs"
SPAN_OUTPUTS = "mlflow.spanOutputs"
TRACE_REQUEST_ID = "mlflow.traceRequestId"
TOKEN_USAGE = "mlflow.chat.tokenUsage"
LLM_MODEL = "mlflow.llm.model"
LLM_PROVIDER = "mlflow.llm.provider"
LLM_COST = "mlflow.llm.cost"
TRACE_TAG_PREFIX = "mlflow.traceTag."
SESSION_ID = "session.id"
USER_ID = "user.id"
GEN_AI_CONVERSATION_ID = "gen_ai.conversation.id"

# Trace metadata.
META_TOKEN_USAGE = "mlflow.trace.tokenUsage"
META_COST = "mlflow.trace.cost"
META_USER = "mlflow.trace.user"
META_SESSION = "mlflow.trace.session"
META_FINALIZED = "mlflow.trace.infoFinalized"
META_SCHEMA_VERSION = "mlflow.trace_schema.version"
META_SOURCE_RUN = "mlflow.sourceRun"
META_SIZE_BYTES = "mlflow.trace.sizeBytes"

# Trace tags.
TAG_TRACE_NAME = "mlflow.traceName"
TAG_SPANS_LOCATION = "mlflow.trace.spansLocation"
TAG_ARTIFACT_LOCATION = "mlflow.artifactLocation"
TAG_LINKED_PROMPTS = "mlflow.linkedPrompts"
SPANS_LOCATION_TRACKING_STORE = "TRACKING_STORE"

# Resource ``service.name`` values copied to a trace tag on ingest.
SERVICE_NAME = "service.name"
SERVICE_NAME_ALLOWLIST = frozenset({"claude-code", "codex_cli_rs", "codex_vscode", "gemini-cli", "qwen-code"})

PREVIEW_MAX_CHARS = 1000
METADATA_VALUE_MAX_CHARS = 250
TAG_KEY_MAX_CHARS = 250
TAG_VALUE_MAX_CHARS = 4096

"""Request parsing and response encoding of the scoring protocol (spec MODELS-SERVING §7).

Every content type and JSON form MLflow's scoring server accepts is parsed here into the data
and params handed to the model, and every protocol error becomes a :class:`ScoringError` that
carries the exact status, body and media type MLflow answers with.
"""

from __future__ import annotations

import io
import traceback
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson
import pandas as pd

from mltrail.models.schema import ColSpec, DataType, ParamSchema, Schema, TensorSpec

__all__ = [
    "CONTENT_TYPES",
    "CONTENT_TYPE_CSV",
    "CONTENT_TYPE_JSON",
    "CONTENT_TYPE_PARQUET",
    "Invocation",
    "ModelView",
    "ScoringError",
    "bad_request",
    "build_frame",
    "check_content_type",
    "encode_predictions",
    "materialize",
    "model_error",
    "parse_invocation",
    "schema_error",
]

CONTENT_TYPE_CSV = "text/csv"
CONTENT_TYPE_JSON = "application/json"
CONTENT_TYPE_PARQUET = "application/vnd.apache.parquet"
CONTENT_TYPES = [CONTENT_TYPE_CSV, CONTENT_TYPE_JSON, CONTENT_TYPE_PARQUET]

DF_SPLIT = "dataframe_split"
DF_RECORDS = "dataframe_records"
INSTANCES = "instances"
INPUTS = "inputs"
# Listed in the order MLflow prints its set, so error messages read the same.
_FORMATS = ("inputs", "dataframe_records", "dataframe_split", "instances")
_FORMAT_SET = frozenset(_FORMATS)
_LLM_KEYS = ("messages", "prompt", "input")

_REQUIRED_FORMAT = (
    "The input must be a JSON dictionary with exactly one of the input fields "
    "{" + ", ".join(f"'{f}'" for f in _FORMATS) + "}"
)
PROTOCOL_CHANGE_INFO = (
    "IMPORTANT: The MLflow Model scoring protocol has changed in MLflow version 2.0. If you are"
    " seeing this error, you are likely using an outdated scoring request format. To resolve the"
    " error, either update your request format or adjust your MLflow Model's requirements file to"
    " specify an older version of MLflow (for example, change the 'mlflow' requirement specifier"
    " to 'mlflow==1.30.0'). If you are making a request using the MLflow client"
    " (e.g. via `mlflow.pyfunc.spark_udf()`), upgrade your MLflow client to a version >= 2.0 in"
    " order to use the new request format. For more information about the updated MLflow"
    " Model scoring protocol in MLflow 2.0, see"
    " https://mlflow.org/docs/latest/models.html#deploy-mlflow-models."
)

# error_code -> (sqlstate, error_class), as MLflow classifies client errors.
_CLASSIFICATION = {
    "BAD_REQUEST": ("KAM00", "INVALID_PARAMETER_VALUE"),
    "INVALID_PARAMETER_VALUE": ("KAM00", "INVALID_PARAMETER_VALUE"),
    "RESOURCE_DOES_NOT_EXIST": ("KAM00", "RESOURCE_NOT_FOUND"),
    "INTERNAL_ERROR": ("XXM00", "CLIENT_INTERNAL_ERROR"),
}
_STATUS = {"BAD_REQUEST": 400, "INVALID_PARAMETER_VALUE": 400, "RESOURCE_DOES_NOT_EXIST": 404}


class ScoringError(Exception):
    """A request the scoring server answers with an error.

    Args:
        status: The HTTP status.
        content: The response body.
        media_type: The response content type.
    """

    def __init__(self, status: int, content: bytes, media_type: str) -> None:
        super().__init__(content.decode("utf-8", "replace"))
        self.status = status
        self.content = content
        self.media_type = media_type


def _json_error(
    error_code: str,
    message: str,
    *,
    error_class: str | None = None,
    sqlstate: str | None = None,
    stack_trace: str | None = None,
) -> ScoringError:
    default_state, default_class = _CLASSIFICATION.get(error_code, ("XXM00", "CLIENT_INTERNAL_ERROR"))
    body: dict[str, Any] = {
        "error_code": error_code,
        "message": message,
        "sqlstate": sqlstate or default_state,
        "error_class": error_class or default_class,
    }
    if stack_trace is not None:
        body["stack_trace"] = stack_trace
    return ScoringError(_STATUS.get(error_code, 500), orjson.dumps(body), CONTENT_TYPE_JSON)


def bad_request(message: str, *, stack_trace: str | None = None) -> ScoringError:
    """A 400 ``BAD_REQUEST`` error (malformed input)."""
    return _json_error("BAD_REQUEST", message, stack_trace=stack_trace)


def _invalid_input(message: str) -> ScoringError:
    return bad_request(f"Invalid input. {message}")


def _describe(data: Any, limit: int = 1000) -> str:
    text = str(data)
    return text if len(text) <= limit else text[:limit] + "..."


def schema_error(data: Any, schema: Schema | None, error_code: str, message: str) -> ScoringError:
    """A 400 error for input that breaks the model's signature (MLflow's wording and classes).

    Args:
        data: The input as parsed (shown, shortened, in the message).
        schema: The input schema that was enforced.
        error_code: ``INVALID_PARAMETER_VALUE`` (missing input) or ``BAD_REQUEST`` (bad value).
        message: What enforcement reported.
    """
    described = _describe(data)
    schema_text = _describe(_schema_text(schema)) if schema is not None else "None"
    return _json_error(
        error_code,
        f"Failed to predict data '{described}'. \nError: Failed to enforce schema of data "
        f"'{described}' with schema '{schema_text}'. Error: {message}",
        error_class="SCHEMA_ENFORCEMENT_FAILED",
        sqlstate="KAM01",
    )


def _schema_text(schema: Schema) -> str:
    parts = []
    for spec in schema.inputs:
        if isinstance(spec, TensorSpec):
            parts.append(f"{spec.name + ': ' if spec.name else ''}Tensor({spec.dtype!r}, {spec.shape})")
        else:
            kind = spec.type.value if isinstance(spec.type, DataType) else type(spec.type).__name__
            required = "required" if spec.required else "optional"
            parts.append(f"{repr(spec.name) + ': ' if spec.name else ''}{kind} ({required})")
    return "[" + ", ".join(parts) + "]"


def model_error(data: Any, error_code: str | None, message: str) -> ScoringError:
    """A 400 error for a failure inside the model's own ``predict``.

    Args:
        data: The input the model received.
        error_code: The wire code of an mltrail error the model raised, or ``None`` for any
            other exception (answered as ``BAD_REQUEST`` with the stack trace).
        message: The error's message.
    """
    if error_code is None:
        return bad_request(
            "Encountered an unexpected error while evaluating the model. Verify that the serialized "
            "input Dataframe is compatible with the model for inference.",
            stack_trace=traceback.format_exc(),
        )
    return _json_error(error_code, f"Failed to predict data '{_describe(data)}'. \nError: {message}")


def _unsupported_type(content_type: str | None) -> ScoringError:
    return ScoringError(
        415,
        (
            f"This predictor only supports the following content types: Types: {CONTENT_TYPES}. "
            f"Got '{content_type if content_type is not None else ''}'."
        ).encode(),
        "text/plain; charset=utf-8",
    )


def check_content_type(content_type: str | None) -> str:
    """The media type of a request, after checking its parameters.

    Args:
        content_type: The ``Content-Type`` header (``None`` when absent).

    Returns:
        One of :data:`CONTENT_TYPES`.

    Raises:
        ScoringError: 415 for another type, a charset other than UTF-8, or another parameter.
    """
    if content_type is None:
        raise _unsupported_type(content_type)
    parts = [p.strip() for p in content_type.split(";")]
    mime = parts[0].lower()
    params = {k.strip().lower(): v.strip() for k, _, v in (p.partition("=") for p in parts[1:] if p)}
    if params.get("charset", "utf-8").strip('"').lower() != "utf-8":
        raise ScoringError(415, b"The scoring server only supports UTF-8", "text/plain; charset=utf-8")
    unexpected = sorted(set(params) - {"charset"})
    if unexpected:
        raise ScoringError(
            415,
            f"Unrecognized content type parameters: {', '.join(unexpected)}. {PROTOCOL_CHANGE_INFO}".encode(),
            "text/plain; charset=utf-8",
        )
    if mime not in CONTENT_TYPES:
        raise _unsupported_type(content_type)
    return mime


@dataclass(frozen=True, slots=True)
class ModelView:
    """What parsing needs to know about the served model.

    Attributes:
        input_schema: The signature's inputs (``None`` without a signature).
        params_schema: The signature's params.
        type_hint_signature: True when the signature came from ``predict`` type hints (the
            ``inputs`` payload then reaches the model unconverted).
    """

    input_schema: Schema | None
    params_schema: ParamSchema | None
    type_hint_signature: bool


@dataclass(slots=True)
class Invocation:
    """A parsed request.

    Attributes:
        data: The model input (``None`` while a deferred DataFrame is not built yet).
        params: Inference params (``None`` when the request has none).
        unwrapped: True for the LLM pass-through form: the response is the bare prediction.
        frame: True when ``data`` is (or will be) a pandas DataFrame whose rows are the
            request's records; such requests may share one predict call with others.
        orient: ``"split"`` or ``"records"`` while the DataFrame is deferred: ``rows`` (and
            ``columns`` for split) then hold the JSON payload it is built from.
        rows: The deferred payload's rows.
        columns: The deferred split payload's column names.
    """

    data: Any
    params: dict[str, Any] | None
    unwrapped: bool = False
    frame: bool = False
    orient: str | None = None
    rows: list[Any] | None = None
    columns: list[Any] | None = None


def build_frame(orient: str, rows: Any, columns: Any = None, index: Any = None) -> Any:
    """Build the DataFrame of a ``dataframe_split`` (``orient="split"``) or ``dataframe_records``
    payload.

    Raises:
        ScoringError: the payload is not a valid DataFrame representation (400).
    """
    try:
        if orient == "split":
            return pd.DataFrame(rows, columns=columns, index=index)
        return pd.DataFrame(rows)
    except Exception as exc:
        field = DF_SPLIT if orient == "split" else DF_RECORDS
        raise _invalid_input(
            f"Provided {field} field is not a valid dataframe representation in "
            f"'{orient}' format. Error: '{exc}'"
        ) from exc


def materialize(invocation: Invocation) -> Invocation:
    """The invocation with its deferred DataFrame built (unchanged when nothing is deferred).

    Raises:
        ScoringError: the payload is not a valid DataFrame representation (400).
    """
    if invocation.orient is None:
        return invocation
    assert invocation.rows is not None
    data = build_frame(invocation.orient, invocation.rows, invocation.columns)
    return Invocation(data, invocation.params, frame=True)


def parse_invocation(body: bytes, mime: str, model: ModelView, *, defer_frames: bool = False) -> Invocation:
    """Parse a request body of a checked media type.

    Args:
        body: The raw body.
        mime: The media type from :func:`check_content_type`.
        model: The served model's schema facts.
        defer_frames: Leave ``dataframe_split`` / ``dataframe_records`` payloads unbuilt (see
            :class:`Invocation`), so that several can be built as one DataFrame.

    Raises:
        ScoringError: the body is malformed for its type (400 ``BAD_REQUEST``), or a type-hinted
            model got no ``inputs`` key (400 ``INVALID_PARAMETER_VALUE``).
    """
    if mime == CONTENT_TYPE_JSON:
        return _parse_json(body, model, defer_frames)
    if mime == CONTENT_TYPE_CSV:
        return Invocation(_parse_csv(body), None, frame=True)
    return Invocation(_parse_parquet(body), None, frame=True)


def _parse_csv(body: bytes) -> Any:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _invalid_input(f"Ensure that input is a valid UTF-8 encoded string. Error: '{exc!r}'") from exc
    try:
        return pd.read_csv(io.StringIO(text))
    except Exception as exc:
        raise bad_request(
            "Failed to parse input as a Pandas DataFrame. Ensure that the input is a valid "
            "CSV-formatted Pandas DataFrame produced using the `pandas.DataFrame.to_csv()` method. "
            f"Error: '{exc}'",
            stack_trace=traceback.format_exc(),
        ) from exc


def _parse_parquet(body: bytes) -> Any:
    try:
        return pd.read_parquet(io.BytesIO(body))
    except Exception as exc:
        raise bad_request(
            "Failed to parse input as a Pandas DataFrame. Ensure that the input is a valid Parquet "
            "Pandas DataFrame produced using the `pandas.DataFrame.to_parquet()` method. "
            f"Error: '{exc}'",
            stack_trace=traceback.format_exc(),
        ) from exc


def _decode_json(body: bytes) -> dict[str, Any]:
    try:
        decoded = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise _invalid_input(
            f"Ensure that input is a valid JSON formatted string. Error: '{exc!r}'\nInput: \n{body!r}\n"
        ) from exc
    if isinstance(decoded, dict):
        return decoded
    if isinstance(decoded, list):
        raise _invalid_input(f"{_REQUIRED_FORMAT}. Received a list.")
    raise _invalid_input(f"{_REQUIRED_FORMAT}. Received unexpected input type '{type(decoded)}.")


def _parse_json(body: bytes, model: ModelView, defer_frames: bool) -> Invocation:
    payload = _decode_json(body)
    if any(key in payload for key in _LLM_KEYS):
        names = {p.name for p in model.params_schema} if model.params_schema is not None else set()
        llm_params = {k: v for k, v in payload.items() if k in names}
        data = {k: v for k, v in payload.items() if k not in names}
        return Invocation(data, llm_params, unwrapped=True)
    params = payload.get("params")
    if params is not None and not isinstance(params, dict):
        raise _invalid_input(f"'params' must be a JSON object, got {type(params).__name__}.")
    keys = [k for k in payload if k in _FORMAT_SET]
    if model.type_hint_signature:
        if INPUTS not in keys:
            raise _json_error(
                "INVALID_PARAMETER_VALUE",
                "Request payload must be a dictionary with 'inputs' key when the model contains a "
                f"valid type hint. Found keys in payload: dict_keys({keys!r}).",
            )
        return Invocation(payload[INPUTS], params)
    if len(keys) != 1:
        raise bad_request(
            f"{_REQUIRED_FORMAT}. Received dictionary with input fields: {keys}. {PROTOCOL_CHANGE_INFO}"
        )
    if "signature_name" in payload:
        raise _invalid_input('"signature_name" parameter is currently not supported')
    key = keys[0]
    value = payload[key]
    if key == DF_SPLIT:
        _check_split(value)
        if defer_frames and isinstance(value["data"], list) and "index" not in value:
            columns = value.get("columns")
            return Invocation(None, params, frame=True, orient="split", rows=value["data"], columns=columns)
        frame = build_frame("split", value["data"], value.get("columns"), value.get("index"))
        return Invocation(frame, params, frame=True)
    if key == DF_RECORDS:
        if not isinstance(value, list):
            kind = "dictionary" if isinstance(value, dict) else f"type {type(value)}"
            raise _invalid_input(f"Dataframe records format must be a list of records. Got {kind}.")
        if defer_frames and all(isinstance(v, dict) for v in value):
            return Invocation(None, params, frame=True, orient="records", rows=value)
        return Invocation(build_frame("records", value), params, frame=True)
    if key == INSTANCES:
        return Invocation(_instances(value, model.input_schema), params)
    return Invocation(_tensor_input(value, model.input_schema), params)


def _check_split(value: Any) -> None:
    if not isinstance(value, dict):
        kind = "list" if isinstance(value, list) else f"type {type(value)}"
        raise _invalid_input(f"Dataframe split format must be a dictionary. Got {kind}.")
    keys = set(value)
    if "data" not in keys or keys - {"columns", "data", "index"}:
        raise _invalid_input(
            "Dataframe split format must have 'data' field and optionally 'columns' "
            f"and 'index' fields. Got {keys}.'"
        )


def _column_specs(schema: Schema | None) -> dict[str, ColSpec | TensorSpec]:
    if schema is None or not schema.has_input_names():
        return {}
    return {spec.name: spec for spec in schema.inputs if spec.name is not None}


def _as_array(value: Any, spec: ColSpec | TensorSpec | None) -> Any:
    """A list as a numpy array, unless the column holds nested values the schema checks itself."""
    if isinstance(spec, ColSpec) and not isinstance(spec.type, DataType):
        return value
    try:
        return np.asarray(value)
    except ValueError as exc:
        raise _invalid_input(
            f"Ensure that the input is a valid JSON-formatted string.\nError: {exc!r}"
        ) from exc


def _instances(value: Any, schema: Schema | None) -> Any:
    if isinstance(value, list) and value and isinstance(value[0], dict):
        specs = _column_specs(schema)
        columns: dict[str, list[Any]] = {}
        for row in value:
            if not isinstance(row, dict):
                raise _invalid_input("Every instance must be an object when the first one is.")
            for name, item in row.items():
                columns.setdefault(name, []).append(item)
        lengths = {len(v) for v in columns.values()}
        if len(lengths) > 1:
            raise _invalid_input("The length of values for each input/column name are not the same")
        return {name: _as_array(items, specs.get(name)) for name, items in columns.items()}
    return _tensor_input(value, schema)


def _tensor_input(value: Any, schema: Schema | None) -> Any:
    specs = _column_specs(schema)
    if len(specs) == 1 and isinstance(value, list) and not any(isinstance(v, dict) for v in value):
        value = {next(iter(specs)): value}
    if isinstance(value, dict):
        return {name: _as_array(item, specs.get(name)) for name, item in value.items()}
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        return value
    first = schema.inputs[0] if schema is not None else None
    if isinstance(value, list):
        return _as_array(value, first)
    return value


# -- responses ----------------------------------------------------------------------------------


def _jsonable(result: Any) -> Any:
    if isinstance(result, pd.DataFrame):
        return result.to_dict(orient="records")
    if isinstance(result, pd.Series):
        return result.to_frame().to_dict(orient="records")
    if isinstance(result, np.ndarray) and result.dtype.kind in "OUSMm":
        return result.tolist()
    return result


def _default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if isinstance(value, bytes | bytearray):
        return value.decode("utf-8", "replace")
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        return dump()
    if isinstance(value, Mapping):
        return dict(value)
    raise TypeError(f"Type is not JSON serializable: {type(value).__name__}")


_OPTIONS = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS


def encode_predictions(result: Any, *, unwrapped: bool = False) -> bytes:
    """The JSON response body for a model's output.

    Args:
        result: What ``predict`` returned (DataFrame and Series become records, arrays lists).
        unwrapped: Return the bare prediction instead of ``{"predictions": ...}``.
    """
    value = _jsonable(result)
    return orjson.dumps(value if unwrapped else {"predictions": value}, default=_default, option=_OPTIONS)

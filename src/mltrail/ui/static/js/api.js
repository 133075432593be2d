// The UI's only way to the server: its own JSON API, relative to the page's origin.
// MLflow protocol calls go to /ajax-api/2.0/mlflow/..., the UI's own routes to /ajax-api/mltrail/ui/...

/** An error answered by the server ({error_code, message}) or a network failure (status 0). */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
  }
}

const ROOT = new URL(".", document.baseURI);

/** An absolute URL on this server for `path` ("ajax-api/..." without a leading slash). */
export function serverUrl(path, query) {
  const url = new URL(path.replace(/^\//, ""), ROOT);
  if (query) {
    for (const [k, v] of Object.entries(query)) {
      if (v === undefined || v === null) continue;
      if (Array.isArray(v)) for (const item of v) url.searchParams.append(k, String(item));
      else url.searchParams.set(k, String(v));
    }
  }
  return url.toString();
}

async function request(method, path, { query, body, signal } = {}) {
  const init = { method, signal, headers: { Accept: "application/json" } };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(serverUrl(path, query), init);
  } catch (err) {
    if (err.name === "AbortError") throw err;
    throw new ApiError(0, "NETWORK_ERROR", `Cannot reach the server: ${err.message}`);
  }
  const text = await response.text();
  let data = {};
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = { message: text };
    }
  }
  if (!response.ok) {
    throw new ApiError(response.status, data.error_code || `HTTP_${response.status}`, data.message || response.statusText);
  }
  return data;
}

/** Generic JSON calls. */
export const http = {
  get: (path, query, opts = {}) => request("GET", path, { ...opts, query }),
  post: (path, body, opts = {}) => request("POST", path, { ...opts, body: body ?? {} }),
  patch: (path, body, opts = {}) => request("PATCH", path, { ...opts, body: body ?? {} }),
  delete: (path, body, opts = {}) => request("DELETE", path, { ...opts, body }),
};

/** An MLflow protocol call: `mlflow.get("runs/get", {run_id})`, `mlflow.post("runs/search", {...})`. */
export const mlflow = {
  get: (rpc, query, opts) => http.get(`ajax-api/2.0/mlflow/${rpc}`, query, opts),
  post: (rpc, body, opts) => http.post(`ajax-api/2.0/mlflow/${rpc}`, body, opts),
  patch: (rpc, body, opts) => http.patch(`ajax-api/2.0/mlflow/${rpc}`, body, opts),
  delete: (rpc, body, opts) => http.delete(`ajax-api/2.0/mlflow/${rpc}`, body, opts),
};

/** MLflow 3 protocol calls (logged models, traces v3). */
export const mlflow3 = {
  get: (rpc, query, opts) => http.get(`ajax-api/3.0/mlflow/${rpc}`, query, opts),
  post: (rpc, body, opts) => http.post(`ajax-api/3.0/mlflow/${rpc}`, body, opts),
  patch: (rpc, body, opts) => http.patch(`ajax-api/3.0/mlflow/${rpc}`, body, opts),
  delete: (rpc, body, opts) => http.delete(`ajax-api/3.0/mlflow/${rpc}`, body, opts),
};

/** The UI's own routes (documented in docs/ui.md): downsampled series, grouped aggregates, ... */
export const uiApi = {
  get: (path, query, opts) => http.get(`ajax-api/mltrail/ui/${path}`, query, opts),
  post: (path, body, opts) => http.post(`ajax-api/mltrail/ui/${path}`, body, opts),
};

/** URL of a run artifact's bytes (served by the server; for previews, images and downloads). */
export function artifactUrl(runId, path) {
  return serverUrl("get-artifact", { run_id: runId, path });
}

/** Fetch every page of a paged MLflow search (`items` is the response list field). */
export async function searchAll(call, body, items, { limit = Infinity, signal } = {}) {
  const out = [];
  let token;
  do {
    const page = await call({ ...body, page_token: token }, { signal });
    out.push(...(page[items] || []));
    token = page.next_page_token;
  } while (token && out.length < limit);
  return out;
}

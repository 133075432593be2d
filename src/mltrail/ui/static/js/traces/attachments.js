// Attachments of a span: values "mlflow-attachment://<id>?content_type=<mime>&trace_id=<id>&size=<n>"
// inside its inputs and outputs. The bytes are served by the server's get-trace-artifact route, so
// images and audio play inline from the page's own origin and other files are download links.
import { serverUrl } from "../api.js";
import { formatBytes, h } from "../dom.js";

const SCHEME = "mlflow-attachment://";

/** The parts of an attachment reference, or null when `value` is not one. */
export function parseAttachment(value) {
  if (typeof value !== "string" || !value.startsWith(SCHEME)) return null;
  const rest = value.slice(SCHEME.length);
  const q = rest.indexOf("?");
  const id = q >= 0 ? rest.slice(0, q) : rest;
  if (!/^[A-Za-z0-9][A-Za-z0-9_-]*$/.test(id)) return null;
  const params = new URLSearchParams(q >= 0 ? rest.slice(q + 1) : "");
  const size = params.get("size");
  return {
    id,
    contentType: params.get("content_type") || "application/octet-stream",
    traceId: params.get("trace_id") || "",
    size: size === null ? null : Number(size),
  };
}

/** Every attachment reference in a JSON value, with the path where it was found ("image", "messages[0].content"). */
export function findAttachments(value, path = "") {
  const found = [];
  const walk = (v, p) => {
    const ref = parseAttachment(v);
    if (ref) {
      found.push({ ...ref, path: p });
      return;
    }
    if (Array.isArray(v)) v.forEach((item, i) => walk(item, `${p}[${i}]`));
    else if (v && typeof v === "object") for (const [k, item] of Object.entries(v)) walk(item, p ? `${p}.${k}` : k);
  };
  walk(value, path);
  return found;
}

/** URL of an attachment's bytes on this server. */
export function attachmentUrl(traceId, attachmentId) {
  return serverUrl("ajax-api/3.0/mlflow/get-trace-artifact", { request_id: traceId, path: attachmentId });
}

/**
 * An inline view of one attachment: <img> for images, <audio controls> for audio, <video> for
 * video, and a download link for everything (the only view of other types).
 */
export function attachmentView(ref, fallbackTraceId) {
  const url = attachmentUrl(ref.traceId || fallbackTraceId, ref.id);
  const kind = ref.contentType.split("/")[0];
  const label = ref.path || ref.id;
  let media = null;
  if (kind === "image") {
    media = h("img", { src: url, alt: `Attachment ${label} (${ref.contentType})`, loading: "lazy", "data-testid": "attachment-image" });
  } else if (kind === "audio") {
    media = h("audio", { controls: true, preload: "metadata", src: url, "aria-label": `Audio attachment ${label}`, "data-testid": "attachment-audio" });
  } else if (kind === "video") {
    media = h("video", { controls: true, preload: "metadata", src: url, "aria-label": `Video attachment ${label}`, "data-testid": "attachment-video" });
  }
  const extension = (ref.contentType.split("/")[1] || "bin").split(/[+;]/)[0];
  return h("figure", { class: "trace-attachment", dataset: { attachmentId: ref.id, contentType: ref.contentType } },
    media,
    h("figcaption", null,
      h("span", { class: "mono" }, label), " ",
      h("span", { class: "muted" }, [ref.contentType, ref.size !== null ? formatBytes(ref.size) : null].filter(Boolean).join(" · ")), " ",
      h("a", { href: url, download: `${ref.id}.${extension}`, "data-testid": "attachment-download" }, "Download")));
}

// Talking to the engine: JSON in, JSON out, and engine errors turned into readable messages.
import { t } from "./i18n.js";

export class ApiError extends Error {
  constructor(message, status = 0, field = null) {
    super(message);
    this.status = status;
    this.field = field; // the page field it belongs under (from the JSON's `field`), e.g. "steps"
  }
}

const looksLikeTrace = (s) => /Traceback|\n\s+File "|\bat [\w.]+\(/.test(s);
const cleanMsg = (msg) => String(msg || "").replace(/^Value error, /, "");

/** FastAPI's `detail` (a string, a list of validation errors or an object) as text. */
export function detailText(detail) {
  if (typeof detail === "string") return detail;
  if (Array.isArray(detail)) return detail.map((d) => cleanMsg(d.msg)).join("; ");
  if (detail && typeof detail === "object") {
    const text = [detail.message || detail.msg || detail.error, detail.hint].filter(Boolean).join(" ");
    return text || JSON.stringify(detail);
  }
  return "";
}

// Request fields whose page field has another id (null: the page has no field for it).
const ALIASES = { CLIP_stop_at_last_layers: "clip_skip", sd_model_checkpoint: null, sd_vae: null };

/** The page field for the request field an error names ("override_settings.CLIP_stop_at_last_layers",
 * "init_images[1]", "steps"), or null when the page shows no such field. */
export function pageField(name) {
  if (typeof name !== "string" || !name) return null;
  const last = name.split(".").pop().replace(/\[\d+\]$/, "");
  const field = last in ALIASES ? ALIASES[last] : last;
  return field && document.querySelector(`[data-error-for="${field}"]`) ? field : null;
}

/** What to show under the field: the first validation message, or the detail after its "field: ". */
function fieldMessage(body) {
  if (Array.isArray(body.errors) && body.errors.length) return cleanMsg(body.errors[0].msg);
  const text = String(body.detail ?? "");
  const label = `${body.field}: `;
  return text.startsWith(label) ? text.slice(label.length) : text;
}

async function errorFrom(response) {
  const status = response.status;
  let body = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  const field = pageField(body && body.field); // the engine names the request field in its JSON
  let text = field ? fieldMessage(body) : detailText(body && (body.detail ?? body.errors ?? body.error));
  if (body && typeof body.hint === "string" && body.hint) text = `${text} ${body.hint}`;
  if (!text || (status >= 500 && (looksLikeTrace(text) || text.length > 400))) {
    text = status >= 500 ? t("error.internal", { status }) : t("error.http", { status });
  }
  return new ApiError(text.split("\n")[0], status, field);
}

async function request(method, path, body) {
  let response;
  try {
    response = await fetch(path, {
      method,
      headers: body === undefined ? {} : { "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "same-origin",
    });
  } catch (err) {
    throw new ApiError(t("error.network", { msg: err.message }), 0);
  }
  if (!response.ok) throw await errorFrom(response);
  const type = response.headers.get("content-type") || "";
  return type.includes("json") ? response.json() : response.text();
}

export const get = (path) => request("GET", path);
export const post = (path, body = {}) => request("POST", path, body);

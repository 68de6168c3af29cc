// Talking to the engine: JSON in, JSON out, and engine errors turned into readable messages.
import { t } from "./i18n.js";

export class ApiError extends Error {
  constructor(message, status = 0, field = null) {
    super(message);
    this.status = status;
    this.field = field; // the request field a 422 points at, e.g. "steps"
  }
}

const looksLikeTrace = (s) => /Traceback|\n\s+File "|\bat [\w.]+\(/.test(s);

function fieldOf(loc) {
  if (!Array.isArray(loc)) return null;
  const names = loc.filter((part) => typeof part === "string" && part !== "body");
  return names.length ? names[names.length - 1] : null;
}

/** Turn FastAPI's `detail` (string, list of validation errors or object) into text + field. */
const cleanMsg = (msg) => String(msg || "").replace(/^Value error, /, "");

export function describeDetail(detail) {
  if (typeof detail === "string") return { text: detail, field: null };
  if (Array.isArray(detail) && detail.length) {
    const field = fieldOf(detail[0].loc);
    if (field) return { text: cleanMsg(detail[0].msg), field, fields: detail.length };
    return { text: detail.map((d) => cleanMsg(d.msg)).join("; "), field: null };
  }
  if (detail && typeof detail === "object") {
    const text = [detail.message || detail.msg || detail.error, detail.hint].filter(Boolean).join(" ");
    return { text: text || JSON.stringify(detail), field: detail.field || null };
  }
  return { text: "", field: null };
}

// Request fields the engine names in its messages, and the page field that shows them.
const ALIASES = { CLIP_stop_at_last_layers: "clip_skip", sd_model_checkpoint: null, sd_vae: null };

/** "override_settings.CLIP_stop_at_last_layers: must be ..." or "prompt <lora:...>: ..." -> field + message. */
export function fieldFromText(text) {
  const match = /^([\w.]+)(?: <[^>]*>)?: (.+)$/s.exec(text || "");
  if (!match) return { text, field: null };
  const name = match[1].split(".").pop();
  const field = name in ALIASES ? ALIASES[name] : name;
  const shown = field && document.querySelector(`[data-error-for="${field}"]`);
  return shown ? { text: match[2], field } : { text, field: null };
}

async function errorFrom(response) {
  const status = response.status;
  let body = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  let { text, field } = describeDetail(body && (body.detail ?? body.errors ?? body.error));
  const listed = body && Array.isArray(body.errors) ? describeDetail(body.errors) : {};
  if (listed.field) ({ text, field } = listed);
  if (!field) ({ text, field } = fieldFromText(text));
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

// Extras: upscale a picture with an upscaler (R-ESRGAN 4x+, 4x-UltraSharp, Lanczos, ...), A1111's
// "Scale by" / "Scale to" with an optional second upscaler blended in. Also fills hires fix's list.
import * as api from "./api.js";
import { $, $$, copyText, dropZone, pngDataURL, readAsDataURL, stripDataURL } from "./dom.js";
import { fillSelect } from "./form.js";
import { t } from "./i18n.js";
import { restoreField } from "./store.js";

let source = null; // data: URL of the picture to upscale
let last = null; // { src, infotext, name } of the last result
let handlers = { toast: () => {}, afterRun: () => {} };

/** The upscaler lists: Extras' two selects, and hires fix's (latent modes first, as A1111). */
export async function loadUpscalers() {
  const [ups, latent] = await Promise.all([api.get("/sdapi/v1/upscalers"), api.get("/sdapi/v1/latent-upscale-modes")]);
  const names = ups.map((u) => u.name);
  for (const id of ["extras-upscaler1", "extras-upscaler2"]) {
    fillSelect($(`#${id}`), names.map((n) => [n, n]));
    restoreField($(`#${id}`));
  }
  const hires = $("#hr_upscaler");
  if (hires) {
    const keep = hires.value;
    fillSelect(hires, [...latent.map((m) => m.name), ...names].map((n) => [n, n]));
    hires.value = [...hires.options].some((o) => o.value === keep) ? keep : "Latent";
    restoreField(hires);
  }
}

/** Show ``src`` (a data: or same-origin URL) as the picture to upscale. */
export async function setExtrasImage(src) {
  source = src.startsWith("data:") ? src : await toDataURL(src);
  const img = $("#extras-img");
  img.src = source;
  img.hidden = false;
  $("#extras-drop .drop-hint").hidden = true;
  $("#extras-drop").classList.add("has-image");
  $("#extras-error").textContent = "";
  img.decode().then(() => ($("#extras-source-size").textContent = `${img.naturalWidth}×${img.naturalHeight}`)).catch(() => {});
}

async function toDataURL(url) {
  const blob = await (await fetch(url, { credentials: "same-origin" })).blob();
  return readAsDataURL(blob);
}

function payload() {
  const byScale = $("#extras-mode-by").checked;
  return {
    image: stripDataURL(source),
    resize_mode: byScale ? 0 : 1,
    upscaling_resize: Number($("#extras-scale").value),
    upscaling_resize_w: Number($("#extras-width").value),
    upscaling_resize_h: Number($("#extras-height").value),
    upscaling_crop: $("#extras-crop").checked,
    upscaler_1: $("#extras-upscaler1").value,
    upscaler_2: $("#extras-upscaler2").value,
    extras_upscaler_2_visibility: Number($("#extras-visibility").value),
  };
}

/** A1111's html_info (a paragraph with <br> lines) as plain text. */
export function htmlInfoText(html) {
  const doc = new DOMParser().parseFromString(html || "", "text/html");
  for (const br of doc.querySelectorAll("br")) br.replaceWith("\n");
  return (doc.body.textContent || "").replace(/\n\n/g, "\n").trim();
}

async function run() {
  if (!source) {
    handlers.toast(t("extras.missing"));
    return;
  }
  const button = $("#extras-run");
  button.disabled = true;
  $("#extras-error").textContent = "";
  $("#extras-status").textContent = t("extras.running");
  try {
    const res = await api.post("/sdapi/v1/extra-single-image", payload());
    showResult(pngDataURL(res.image), htmlInfoText(res.html_info));
    handlers.afterRun();
  } catch (err) {
    $("#extras-error").textContent = err.message;
    $("#extras-status").textContent = "";
  } finally {
    button.disabled = false;
  }
}

function showResult(src, infotext) {
  last = { src, infotext, name: "maple-extras.png" };
  const img = $("#extras-result-img");
  img.src = src;
  img.hidden = false;
  $("#extras-result-empty").hidden = true;
  $("#extras-info").textContent = infotext || t("extras.unchanged");
  $("#extras-result-actions").hidden = false;
  $("#extras-download").href = src;
  img.decode().then(() => ($("#extras-status").textContent = t("extras.size", { w: img.naturalWidth, h: img.naturalHeight })))
    .catch(() => ($("#extras-status").textContent = ""));
}

function syncMode() {
  const byScale = $("#extras-mode-by").checked;
  for (const node of $$(".extras-by")) node.hidden = !byScale;
  for (const node of $$(".extras-to")) node.hidden = byScale;
  $("#extras-upscaler2").disabled = Number($("#extras-visibility").value) <= 0;
}

export function initExtras(h) {
  handlers = { ...handlers, ...h };
  dropZone($("#extras-drop"), $("#extras-file"), async (file) => setExtrasImage(await readAsDataURL(file)));
  $("#extras-img").addEventListener("click", () => $("#extras-file").click());
  $("#extras-run").addEventListener("click", run);
  for (const id of ["extras-mode-by", "extras-mode-to", "extras-visibility"]) $(`#${id}`).addEventListener("input", syncMode);
  $("#extras-upscaler1").addEventListener("change", () => {
    const match = /(\d)[xX]|[xX](\d)/.exec($("#extras-upscaler1").value); // "4x-UltraSharp" suggests 4
    if (match) $("#extras-scale").value = match[1] || match[2];
  });
  $("#extras-copy").addEventListener("click", async () => {
    await copyText(last?.infotext || "");
    handlers.toast(t("copied"));
  });
  syncMode();
}

export const extrasResult = () => last;

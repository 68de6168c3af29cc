// The generation parameters: built from a small spec, read and written as plain objects.
import { $, $$, el } from "./dom.js";
import { t } from "./i18n.js";
import { setFieldValue } from "./store.js";

const errorSlot = (id) => el("div", { class: "field-error", dataset: { errorFor: id } });

function slider(id, key, min, max, step, value) {
  const num = el("input", { type: "number", id, name: id, min, max, step, value, "data-persist": true });
  const range = el("input", { type: "range", min, max, step, value, tabindex: -1, "aria-hidden": "true" });
  range.addEventListener("input", () => {
    num.value = range.value;
    num.dispatchEvent(new Event("change", { bubbles: true }));
  });
  num.addEventListener("input", () => (range.value = num.value));
  return el("div", { class: "field slider", dataset: { field: id } },
    el("label", { for: id, "data-i18n": key }, key), num, range, errorSlot(id));
}

function select(id, key, options = [], value = null) {
  const node = el("select", { id, name: id, "data-persist": true },
    options.map(([v, k]) => el("option", { value: v, "data-i18n": k }, k)));
  if (value !== null) node.value = value;
  return el("div", { class: "field", dataset: { field: id } },
    el("label", { for: id, "data-i18n": key }, key), node, errorSlot(id));
}

function check(id, key) {
  return el("label", { class: "check", dataset: { field: id } },
    el("input", { type: "checkbox", id, name: id, "data-persist": true }), el("span", { "data-i18n": key }, key));
}

const row = (...children) => el("div", { class: "row" }, children);
const iconButton = (id, iconName, key) => el("button", { type: "button", id, class: "ghost icon-only", "data-icon": iconName, "data-i18n-title": key });

// A1111's hires upscaler names that the engine knows (latent ones, then the pixel ones).
const UPSCALERS = ["Latent", "Latent (antialiased)", "Latent (bicubic)", "Latent (bicubic antialiased)", "Latent (nearest)",
  "Latent (nearest-exact)", "Lanczos", "Nearest"];
const PRESETS = ["512x512", "512x768", "768x512", "768x768", "640x960", "960x640", "1024x1024", "832x1216", "1216x832", "896x1152", "1152x896"];

function sizeBlock() {
  const presets = el("select", { id: "size-presets", "data-i18n-title": "presets" },
    el("option", { value: "", "data-i18n": "presets" }, "presets"),
    PRESETS.map((p) => el("option", { value: p }, p.replace("x", " × "))));
  return el("div", { class: "size-block" },
    row(slider("width", "width", 64, 2048, 8, 512), iconButton("swap-size", "swap", "swap"), slider("height", "height", 64, 2048, 8, 512)),
    presets);
}

function seedBlock() {
  const input = el("input", { type: "number", id: "seed", name: "seed", value: -1, step: 1, "data-persist": true });
  return el("div", { class: "field seed", dataset: { field: "seed" } },
    el("label", { for: "seed", "data-i18n": "seed" }, "seed"),
    el("div", { class: "seed-row" }, input, iconButton("seed-random", "dice", "seed.random"), iconButton("seed-reuse", "recycle", "seed.reuse")),
    errorSlot("seed"));
}

function subseedBlock() {
  const input = el("input", { type: "number", id: "subseed", name: "subseed", value: -1, step: 1, "data-persist": true });
  return el("div", { class: "field seed", dataset: { field: "subseed" } },
    el("label", { for: "subseed", "data-i18n": "subseed" }, "subseed"),
    el("div", { class: "seed-row" }, input, iconButton("subseed-random", "dice", "seed.random")),
    errorSlot("subseed"));
}

const SPEC = {
  params: () => [
    row(select("sampler_name", "sampler", [["Euler a", "Euler a"]]), select("scheduler", "scheduler", [["Automatic", "Automatic"]])),
    slider("steps", "steps", 1, 150, 1, 20),
    slider("cfg_scale", "cfg", 1, 30, 0.5, 7),
    sizeBlock(),
    seedBlock(),
    row(slider("n_iter", "n_iter", 1, 100, 1, 1), slider("batch_size", "batch_size", 1, 8, 1, 1)),
    slider("clip_skip", "clip_skip", 1, 12, 1, 1),
    check("tiling", "tiling"),
  ],
  variation: () => [
    subseedBlock(),
    slider("subseed_strength", "subseed_strength", 0, 1, 0.01, 0),
    row(slider("seed_resize_from_w", "resize_from_w", 0, 2048, 8, 0), slider("seed_resize_from_h", "resize_from_h", 0, 2048, 8, 0)),
    row(select("randn_source", "randn_source", [["GPU", "GPU"], ["CPU", "CPU"], ["NV", "NV"]], "GPU"),
      slider("eta_noise_seed_delta", "ensd", 0, 99999, 1, 0)),
  ],
  hires: () => [
    check("enable_hr", "hires.enable"),
    row(select("hr_upscaler", "hr_upscaler", UPSCALERS.map((u) => [u, u])), slider("hr_scale", "hr_scale", 1, 4, 0.05, 2)),
    row(slider("hr_second_pass_steps", "hr_steps", 0, 150, 1, 0), slider("hr_denoise", "hr_denoise", 0, 1, 0.01, 0.7)),
  ],
  img2img: () => [
    slider("denoising_strength", "denoise", 0, 1, 0.01, 0.75),
    row(select("resize_mode", "resize_mode", [0, 1, 2, 3].map((i) => [String(i), `resize.${i}`]), "0"),
      select("inpainting_fill", "inpainting_fill", [0, 1, 2, 3].map((i) => [String(i), `fill.${i}`]), "1")),
    row(slider("mask_blur", "mask_blur", 0, 64, 1, 4),
      select("inpaint_full_res", "inpaint_area", [["0", "area.0"], ["1", "area.1"]], "0")),
  ],
};

export function buildForm() {
  for (const box of $$("[data-fields]")) box.append(...SPEC[box.dataset.fields]());
  $("#swap-size").addEventListener("click", () => {
    const w = $("#width").value;
    setFieldValue($("#width"), $("#height").value);
    setFieldValue($("#height"), w);
  });
  $("#size-presets").addEventListener("change", (e) => {
    const [w, h] = e.target.value.split("x");
    if (w) {
      setFieldValue($("#width"), w);
      setFieldValue($("#height"), h);
    }
    e.target.value = "";
  });
  $("#seed-random").addEventListener("click", () => setFieldValue($("#seed"), -1));
  $("#subseed-random").addEventListener("click", () => setFieldValue($("#subseed"), -1));
  const variationNote = () => {
    const strength = Number($("#subseed_strength").value);
    $("#variation-note").textContent = strength > 0 ? String(strength) : "";
  };
  for (const type of ["input", "change"]) $("#subseed_strength").addEventListener(type, variationNote);
  const hiresNote = () => ($("#hires-note").textContent = $("#enable_hr").checked ? t("hires.on") : "");
  for (const type of ["input", "change"]) $("#enable_hr").addEventListener(type, hiresNote);
  document.addEventListener("maple:lang", hiresNote);
}

/** Fill a select with [value, label] pairs, keeping its value when still offered. */
export function fillSelect(node, pairs) {
  const keep = node.value;
  node.replaceChildren(...pairs.map(([v, label]) => el("option", { value: v }, label)));
  if (pairs.some(([v]) => v === keep)) node.value = keep;
}

const num = (id) => Number($(`#${id}`).value);

/** Everything the form holds, as numbers and strings. */
export function formValues() {
  const ids = ["steps", "cfg_scale", "width", "height", "seed", "n_iter", "batch_size", "clip_skip", "hr_scale",
    "hr_second_pass_steps", "hr_denoise", "denoising_strength", "resize_mode", "inpainting_fill", "mask_blur",
    "subseed", "subseed_strength", "seed_resize_from_w", "seed_resize_from_h", "eta_noise_seed_delta"];
  const values = Object.fromEntries(ids.map((id) => [id, num(id)]));
  for (const id of ["prompt", "negative_prompt", "sampler_name", "scheduler", "hr_upscaler", "randn_source"]) values[id] = $(`#${id}`).value;
  values.enable_hr = $("#enable_hr").checked;
  values.tiling = $("#tiling").checked;
  values.inpaint_full_res = $("#inpaint_full_res").value === "1";
  return values;
}

/** Set fields by id; unknown ids are ignored. Selects get a missing value added as an option. */
export function setValues(values) {
  for (const [id, value] of Object.entries(values)) {
    const node = document.getElementById(id);
    if (!node || value === undefined) continue;
    if (node.tagName === "SELECT" && ![...node.options].some((o) => o.value === String(value))) {
      node.append(el("option", { value }, String(value)));
    }
    setFieldValue(node, value);
  }
}

/** Show an engine error under the field it names; returns false when no such field is on the page. */
export function showFieldError(field, text) {
  const alias = { denoising_strength: "denoising_strength", sd_model_checkpoint: null }[field];
  const slot = $(`[data-error-for="${alias === undefined ? field : alias}"]`);
  if (!slot) return false;
  slot.textContent = text;
  slot.closest(".field, .card")?.classList.add("has-error");
  const details = slot.closest("details");
  if (details) details.open = true;
  return true;
}

export function clearFieldErrors() {
  for (const slot of $$(".field-error[data-error-for]")) slot.textContent = "";
  for (const node of $$(".has-error")) node.classList.remove("has-error");
}

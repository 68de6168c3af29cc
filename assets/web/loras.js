// The LoRA browser: one card per LoRA the engine knows; a click adds or removes its tag.
import * as api from "./api.js";
import { $, $$, el } from "./dom.js";
import { t } from "./i18n.js";
import { hasLora, toggleLora } from "./prompt.js";

let loras = [];

function hue(name) {
  let h = 0;
  for (const ch of name) h = (h * 31 + ch.codePointAt(0)) % 360;
  return h;
}

function card(lora) {
  const name = lora.name;
  const meta = lora.metadata || {};
  const base = meta.ss_base_model_version || meta.ss_sd_model_name || "";
  return el("button", {
    type: "button", class: "lora-card", title: `${name}\n${t("lora.title")}`, dataset: { lora: name },
    onclick: () => {
      toggleLora(name);
      markActive();
    },
  },
  el("span", { class: "lora-avatar", style: `--h:${hue(name)}` }, name.slice(0, 2).toUpperCase()),
  el("span", { class: "lora-name" }, lora.alias && lora.alias !== name ? lora.alias : name),
  base ? el("span", { class: "lora-meta" }, String(base).slice(0, 24)) : null);
}

export function markActive() {
  for (const node of $$(".lora-card")) node.classList.toggle("active", hasLora(node.dataset.lora));
}

function render() {
  const filter = $("#lora-search").value.trim().toLowerCase();
  const shown = loras.filter((l) => !filter || `${l.name} ${l.alias || ""}`.toLowerCase().includes(filter));
  const grid = $("#lora-grid");
  grid.replaceChildren(...shown.map(card));
  if (!loras.length) grid.append(el("p", { class: "muted" }, t("lora.none")));
  $("#lora-count").textContent = loras.length ? String(loras.length) : "";
  markActive();
}

async function load(refresh = false) {
  const error = $("#lora-error");
  error.textContent = "";
  try {
    if (refresh) await api.post("/sdapi/v1/refresh-loras");
    loras = await api.get("/sdapi/v1/loras");
    loras.sort((a, b) => a.name.localeCompare(b.name));
  } catch (err) {
    error.textContent = err.message;
  }
  render();
}

export function initLoras() {
  $("#lora-search").addEventListener("input", render);
  $("#lora-refresh").addEventListener("click", () => load(true));
  $("#prompt").addEventListener("input", markActive);
  document.addEventListener("maple:lang", render);
  return load();
}

// The day's outputs: a date picker and a grid of what the engine saved.
import * as api from "./api.js";
import { $, el } from "./dom.js";
import { openLightbox } from "./gallery.js";
import { t } from "./i18n.js";

let images = [];
let stale = true;

function render() {
  const grid = $("#outputs-grid");
  grid.replaceChildren(...images.map((item, i) => el("button", {
    type: "button", class: "out-thumb", title: item.name, onclick: () => openLightbox(images, i),
  }, el("img", { src: item.src, alt: item.name, loading: "lazy" }), el("span", { class: `mode ${item.mode}` }, item.mode))));
  if (!images.length) grid.append(el("p", { class: "muted empty" }, t("outputs.none")));
  $("#outputs-count").textContent = images.length ? t("outputs.count", { n: images.length }) : "";
}

function fillDates(dates, chosen) {
  const select = $("#outputs-date");
  const all = [...new Set([chosen, ...dates].filter(Boolean))].sort().reverse();
  select.replaceChildren(...all.map((d) => el("option", { value: d }, d)));
  if (chosen) select.value = chosen;
}

export async function loadOutputs(date = $("#outputs-date").value) {
  $("#outputs-error").textContent = "";
  try {
    const res = await api.get(`/maple/v1/outputs${date ? `?date=${encodeURIComponent(date)}` : ""}`);
    if (!date && !(res.images || []).length && (res.dates || []).length) {
      return loadOutputs(res.dates.slice().sort().reverse()[0]);
    }
    const shownDate = date || res.date || (res.dates || []).slice().sort().reverse()[0] || "";
    fillDates(res.dates || [], shownDate);
    images = (res.images || []).map((im) => ({ src: im.url, name: im.name, mode: im.mode, infotext: im.infotext || "" }));
    stale = false;
  } catch (err) {
    $("#outputs-error").textContent = err.message;
    images = [];
  }
  render();
}

export const markOutputsStale = () => (stale = true);
export const outputsStale = () => stale;

export function initOutputs() {
  $("#outputs-date").addEventListener("change", () => loadOutputs());
  $("#outputs-refresh").addEventListener("click", () => loadOutputs());
  document.addEventListener("maple:lang", render);
}

// Results: the big stage, the thumbnail strip, the infotext panel and the full-size lightbox.
import { $, copyText, el } from "./dom.js";
import { applyIcons } from "./icons.js";
import { applyI18n, t } from "./i18n.js";

const MAX_ITEMS = 80;
const items = [];
let selected = -1;
let handlers = { reuse: () => {}, toImg2img: () => {}, toExtras: () => {}, toast: () => {} };
let lightboxList = [];
let lightboxIndex = 0;

export const setActionHandlers = (h) => Object.assign(handlers, h);

function actionButtons(item) {
  const button = (icon, key, onclick, extra = {}) =>
    el("button", { type: "button", class: "ghost small", "data-icon": icon, "data-action": key, onclick, ...extra },
      el("span", { "data-i18n": key }, t(key)));
  const download = el("a", { class: "button ghost small", href: item.src, download: item.name || `maple-${item.seed ?? "image"}.png`,
    "data-icon": "download", "data-action": "download" }, el("span", { "data-i18n": "download" }, t("download")));
  const nodes = [
    download,
    button("copy", "copy.info", async () => {
      await copyText(item.infotext || "");
      handlers.toast(t("copied"));
    }, { disabled: !item.infotext }),
    button("reuse", "reuse", () => handlers.reuse(item), { disabled: !item.infotext }),
    button("image", "send.img2img", () => handlers.toImg2img(item)),
    button("spark", "send.extras", () => handlers.toExtras(item)),
  ];
  nodes.forEach((n) => applyIcons(el("div", {}, n)));
  return nodes;
}

function fillInfo(container, textNode, item) {
  textNode.textContent = item.infotext || "";
  container.querySelector("[data-actions]").replaceChildren(...actionButtons(item));
}

function renderStrip() {
  const strip = $("#gallery");
  strip.replaceChildren(...items.map((item, i) => el("button", {
    type: "button", class: `thumb${i === selected ? " selected" : ""}`, title: item.infotext ? item.infotext.split("\n")[0] : "",
    onclick: () => select(i),
  }, el("img", { src: item.src, alt: "", loading: "lazy" }))));
}

export function select(i) {
  selected = i;
  const item = items[i];
  const img = $("#stage-img");
  img.src = item.src;
  img.hidden = false;
  img.classList.remove("preview");
  img.dataset.index = String(i);
  $("#stage-empty").hidden = true;
  for (const id of ["#info-panel", "#gallery"]) $(id).classList.remove("reserved");
  $("#info-panel").hidden = false;
  fillInfo($("#info-panel"), $("#info-text"), item);
  renderStrip();
}

/** New results go first in the strip; the first of them is shown. */
export function addResults(newItems) {
  if (!newItems.length) return;
  items.unshift(...newItems);
  items.length = Math.min(items.length, MAX_ITEMS);
  select(0);
}

/** Before the first result: the strip and the info panel take their place, unseen, so the stage
 * (the empty stage, the live preview, the final image) has one size from the start. */
function reserveSpace() {
  if (items.length) return;
  for (const id of ["#info-panel", "#gallery"]) $(id).classList.add("reserved");
  $("#info-panel").hidden = false;
}

/** The live preview while a job runs. */
export function showPreview(src) {
  const img = $("#stage-img");
  img.src = src;
  img.hidden = false;
  img.classList.add("preview");
  delete img.dataset.index;
  $("#stage-empty").hidden = true;
}

export function restoreStage() {
  if (selected >= 0 && items[selected]) select(selected);
  else $("#stage-img").classList.remove("preview");
}

function showLightbox() {
  const item = lightboxList[lightboxIndex];
  $("#lb-img").src = item.src;
  fillInfo($("#lightbox"), $("#lb-text"), item);
  $(".lb-prev").hidden = $(".lb-next").hidden = lightboxList.length < 2;
}

export function openLightbox(list, index) {
  lightboxList = list;
  lightboxIndex = index;
  $("#lightbox").hidden = false;
  showLightbox();
}

export const closeLightbox = () => ($("#lightbox").hidden = true);
export const lightboxOpen = () => !$("#lightbox").hidden;

function step(delta) {
  lightboxIndex = (lightboxIndex + delta + lightboxList.length) % lightboxList.length;
  showLightbox();
}

export function initGallery() {
  reserveSpace();
  $("#stage-img").addEventListener("click", (e) => {
    const i = e.target.dataset.index;
    if (i !== undefined) openLightbox(items, Number(i));
  });
  $(".lb-close").addEventListener("click", closeLightbox);
  $(".lb-prev").addEventListener("click", () => step(-1));
  $(".lb-next").addEventListener("click", () => step(1));
  $("#lightbox").addEventListener("click", (e) => e.target.id === "lightbox" && closeLightbox());
  document.addEventListener("keydown", (e) => {
    if (!lightboxOpen()) return;
    if (e.key === "ArrowLeft") step(-1);
    if (e.key === "ArrowRight") step(1);
  });
  document.addEventListener("maple:lang", () => applyI18n($("#lightbox")));
}

// Maple's generation page: wires the modules together (tabs, language, theme, shortcuts).
import * as api from "./api.js";
import { initControlNet } from "./controlnet.js";
import { applyMachineDefaults } from "./defaults.js";
import { $, $$ } from "./dom.js";
import { initEmbeddings } from "./embeddings.js";
import { initExtras, loadUpscalers, setExtrasImage } from "./extras.js";
import { buildForm, fillSelect, setValues } from "./form.js";
import { initGallery, closeLightbox, lightboxOpen, setActionHandlers } from "./gallery.js";
import { generate, initGenerate, interrupt, isRunning } from "./generate.js";
import { applyIcons, icon } from "./icons.js";
import { currentLang, detectLanguage, setLanguage, t } from "./i18n.js";
import { infotextToFields } from "./infotext.js";
import { initLoras } from "./loras.js";
import { initMaskEditor, setInitImage } from "./maskeditor.js";
import { initModels, waitReady } from "./models.js";
import { initOutputs, loadOutputs, markOutputsStale, outputsStale } from "./outputs.js";
import { initPngInfo } from "./pnginfo.js";
import { initPrompts } from "./prompt.js";
import { initPersistence, restoreField, saveUI, ui } from "./store.js";
import { initStyles } from "./styles.js";

const GEN_TABS = ["txt2img", "img2img"];
const mode = () => $("#view-gen").dataset.mode;

function showTab(name) {
  for (const tab of $$("[data-tab]")) tab.setAttribute("aria-selected", String(tab.dataset.tab === name));
  const gen = GEN_TABS.includes(name);
  $("#view-gen").hidden = !gen;
  if (gen && $("#view-gen").dataset.mode !== name) {
    $("#view-gen").dataset.mode = name;
    $("#left-panel").scrollTop = 0;
  }
  $("#view-pnginfo").hidden = name !== "pnginfo";
  $("#view-extras").hidden = name !== "extras";
  $("#view-outputs").hidden = name !== "outputs";
  if (name === "outputs" && outputsStale()) loadOutputs();
  saveUI({ tab: name });
}

function toast(text) {
  const node = $("#toast");
  node.textContent = text;
  node.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => (node.hidden = true), 2500);
}

const effectiveTheme = () => document.documentElement.dataset.theme
  || (matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light");

function paintThemeButton() {
  const button = $("#theme-switch");
  const dark = effectiveTheme() === "dark";
  button.innerHTML = icon(dark ? "sun" : "moon");
  button.title = t(dark ? "theme.light" : "theme.dark");
}

function initTheme() {
  $("#theme-switch").addEventListener("click", () => {
    const next = effectiveTheme() === "dark" ? "light" : "dark";
    document.documentElement.dataset.theme = next;
    saveUI({ theme: next });
    paintThemeButton();
  });
  matchMedia("(prefers-color-scheme: dark)").addEventListener("change", paintThemeButton);
  paintThemeButton();
}

function initLanguage() {
  setLanguage(detectLanguage(ui.lang));
  const paint = () => ($("#lang-label").textContent = currentLang() === "zh" ? "English" : "中文");
  $("#lang-switch").addEventListener("click", () => {
    setLanguage(currentLang() === "zh" ? "en" : "zh");
    saveUI({ lang: currentLang() });
    paint();
    paintThemeButton();
  });
  paint();
}

function reuse(item, tab) {
  if (!item.infotext) return;
  setValues(infotextToFields(item.infotext));
  if (tab) showTab(tab);
  closeLightbox();
  toast(t("loaded.params"));
}

async function toImg2img(item) {
  await setInitImage(item.src);
  if (item.infotext) setValues(infotextToFields(item.infotext));
  closeLightbox();
  showTab("img2img");
  toast(t("sent.img2img"));
}

async function toExtras(item) {
  await setExtrasImage(item.src);
  closeLightbox();
  showTab("extras");
  toast(t("sent.extras"));
}

function initShortcuts() {
  document.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey) && !$("#view-gen").hidden) {
      e.preventDefault();
      runGenerate();
    } else if (e.key === "Escape") {
      if (lightboxOpen()) closeLightbox();
      else if (isRunning()) interrupt();
    }
  });
}

async function runGenerate() {
  await generate(mode());
  markOutputsStale();
}

async function loadChoices() {
  const [samplers, schedulers] = await Promise.allSettled([api.get("/sdapi/v1/samplers"), api.get("/sdapi/v1/schedulers")]);
  const names = (res, key = "name") => (res.status === "fulfilled" && Array.isArray(res.value)
    ? res.value.map((x) => (typeof x === "string" ? x : x[key] || x.name)) : []);
  const fill = (id, list) => {
    if (!list.length) return;
    fillSelect($(`#${id}`), [...new Set(list)].map((n) => [n, n]));
    restoreField($(`#${id}`));
  };
  fill("sampler_name", names(samplers));
  fill("scheduler", names(schedulers, "label"));
}

async function main() {
  buildForm();
  applyIcons();
  initLanguage();
  initPersistence();
  initTheme();
  for (const tab of $$("[data-tab]")) tab.addEventListener("click", () => showTab(tab.dataset.tab));
  showTab(ui.tab || "txt2img");
  // From the outputs tab, reusing parameters goes to the tab the image was made in.
  const reuseTab = (item) => (GEN_TABS.includes(ui.tab) ? null : item.mode === "img2img" ? "img2img" : "txt2img");
  setActionHandlers({ reuse: (item) => reuse(item, reuseTab(item)), toImg2img, toExtras, toast });
  initGallery();
  initMaskEditor(() => toast(t("init.missing")));
  $("#generate").addEventListener("click", markOutputsStale);
  initGenerate(mode);
  initPngInfo({ reuse, toImg2img, toast });
  initOutputs();
  initExtras({ toast, afterRun: markOutputsStale });
  initShortcuts();
  await waitReady();
  initPrompts();
  await Promise.all([initModels(), loadChoices(), initLoras(), initEmbeddings(), initStyles(), loadUpscalers().catch(() => {}),
    initControlNet()]);
  applyMachineDefaults(await api.get("/maple/v1/info").catch(() => ({})));
  document.body.dataset.ready = "1";
}

main();

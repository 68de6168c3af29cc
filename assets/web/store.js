// The last used settings survive a reload: form fields marked data-persist and a few UI choices.
import { $$, debounce } from "./dom.js";

const FORM_KEY = "maple.form";
const UI_KEY = "maple.ui";

function readJSON(key) {
  try {
    return JSON.parse(localStorage.getItem(key) || "{}") || {};
  } catch {
    return {};
  }
}

function writeJSON(key, value) {
  try {
    localStorage.setItem(key, JSON.stringify(value));
  } catch {
    /* storage full or disabled: settings just do not persist */
  }
}

const saved = readJSON(FORM_KEY);

export const ui = readJSON(UI_KEY);
export const saveUI = (patch) => writeJSON(UI_KEY, Object.assign(ui, patch));

export function fieldValue(node) {
  return node.type === "checkbox" ? node.checked : node.value;
}

export function setFieldValue(node, value) {
  if (node.type === "checkbox") node.checked = Boolean(value);
  else node.value = value;
  node.dispatchEvent(new Event("input", { bubbles: true }));
}

/** The value saved for field ``id`` (undefined when none was saved). */
export const savedValue = (id) => saved[id];

/** Put the saved value back into one field (selects call this again after their options load). */
export function restoreField(node) {
  if (!(node.id in saved)) return;
  const value = saved[node.id];
  if (node.tagName === "SELECT" && ![...node.options].some((o) => o.value === String(value))) return;
  setFieldValue(node, value);
}

const persistNow = () => {
  for (const node of $$("[data-persist]")) saved[node.id] = fieldValue(node);
  writeJSON(FORM_KEY, saved);
};
export const persist = debounce(persistNow, 250);

export function initPersistence() {
  for (const node of $$("[data-persist]")) restoreField(node);
  document.addEventListener("input", (e) => e.target.matches?.("[data-persist]") && persist());
  document.addEventListener("change", (e) => e.target.matches?.("[data-persist]") && persist());
  window.addEventListener("beforeunload", persistNow);
}

// Prompt styles (A1111's styles.csv): pick styles to apply at generation, apply them to the prompt
// text now, or save the current prompts as a new style.
import * as api from "./api.js";
import { $, el } from "./dom.js";
import { t } from "./i18n.js";
import { saveUI, ui } from "./store.js";

let styles = [];
let chosen = Array.isArray(ui.styles) ? ui.styles : [];

/** The styles picked for the next generation (sent as the request's `styles`). */
export const selectedStyles = () => chosen.filter((name) => styles.some((s) => s.name === name));

/** A style's text applied to a prompt, as the engine applies it ({prompt} placeholder, else ", "). */
export function mergeStyle(styleText, prompt) {
  if (styleText.includes("{prompt}")) return styleText.replaceAll("{prompt}", prompt);
  return [prompt.trim(), styleText.trim()].filter(Boolean).join(", ");
}

function choose(next) {
  chosen = next;
  saveUI({ styles: chosen });
  render();
}

function render() {
  const picker = $("#style-add");
  const names = styles.map((s) => s.name);
  picker.replaceChildren(el("option", { value: "" }, t("styles.add")),
    ...names.filter((n) => !chosen.includes(n)).map((n) => el("option", { value: n }, n)));
  picker.disabled = !names.length;
  const chips = selectedStyles().map((name) => el("span", { class: "chip", dataset: { style: name } }, name,
    el("button", { type: "button", class: "chip-x", "aria-label": t("styles.remove"), title: t("styles.remove"),
      onclick: () => choose(chosen.filter((n) => n !== name)) }, "×")));
  $("#style-chips").replaceChildren(...chips);
  $("#style-apply").disabled = !chips.length;
}

function applyToPrompt() {
  const picked = selectedStyles().map((name) => styles.find((s) => s.name === name));
  for (const [id, key] of [["prompt", "prompt"], ["negative_prompt", "negative_prompt"]]) {
    const area = $(`#${id}`);
    area.value = picked.reduce((text, style) => mergeStyle(style[key] || "", text), area.value);
    area.dispatchEvent(new Event("input", { bubbles: true }));
  }
  choose([]);
  status(t("styles.applied"));
}

function status(text, error = false) {
  const node = $("#style-status");
  node.textContent = text;
  node.classList.toggle("field-error", error);
}

async function save() {
  const name = $("#style-name").value.trim();
  if (!name) return status(t("styles.noname"), true);
  try {
    const res = await api.post("/maple/v1/styles",
      { name, prompt: $("#prompt").value, negative_prompt: $("#negative_prompt").value });
    styles = res.styles || styles;
    $("#style-save-form").hidden = true;
    $("#style-name").value = "";
    render();
    status(t("styles.saved", { name }));
  } catch (err) {
    status(err.message, true);
  }
}

async function load() {
  try {
    styles = await api.get("/sdapi/v1/prompt-styles");
  } catch (err) {
    status(err.message, true);
  }
  render();
}

export function initStyles() {
  $("#style-add").addEventListener("change", (e) => {
    if (e.target.value) choose([...chosen, e.target.value]);
  });
  $("#style-apply").addEventListener("click", applyToPrompt);
  $("#style-save").addEventListener("click", () => {
    const form = $("#style-save-form");
    form.hidden = !form.hidden;
    if (!form.hidden) $("#style-name").focus();
  });
  $("#style-save-ok").addEventListener("click", save);
  $("#style-name").addEventListener("keydown", (e) => e.key === "Enter" && (e.preventDefault(), save()));
  document.addEventListener("maple:lang", render);
  return load();
}

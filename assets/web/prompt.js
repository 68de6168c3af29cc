// Prompt boxes: the live token counter (A1111's 75-token chunks) and LoRA tag insertion.
import * as api from "./api.js";
import { $, debounce } from "./dom.js";
import { t } from "./i18n.js";

function watch(area, badge) {
  let seq = 0;
  const run = async () => {
    const mine = ++seq;
    try {
      const res = await api.post("/maple/v1/token-count", { prompt: area.value });
      if (mine !== seq) return;
      badge.textContent = `${res.tokens}/${res.limit}`;
      badge.classList.toggle("multi", res.chunks > 1);
      badge.classList.remove("unknown");
    } catch {
      if (mine !== seq) return;
      badge.textContent = "?";
      badge.classList.add("unknown");
    }
  };
  area.addEventListener("input", debounce(run, 250));
  badge.title = t("tokens.title");
  document.addEventListener("maple:lang", () => (badge.title = t("tokens.title")));
  run();
}

export function initPrompts() {
  watch($("#prompt"), $("#prompt-tokens"));
  watch($("#negative_prompt"), $("#negative-tokens"));
}

const escapeRe = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** Add `<lora:NAME:1>` to the prompt, or take it out when it is already there (as A1111's cards do). */
export function toggleLora(name) {
  const area = $("#prompt");
  const tag = new RegExp(`\\s*<lora:${escapeRe(name)}:[^>]*>`, "g");
  if (tag.test(area.value)) {
    area.value = area.value.replace(tag, "").trim();
  } else {
    const sep = area.value && !/\s$/.test(area.value) ? " " : "";
    area.value = `${area.value}${sep}<lora:${name}:1>`;
  }
  area.dispatchEvent(new Event("input", { bubbles: true }));
  return area.value;
}

export const hasLora = (name) => new RegExp(`<lora:${escapeRe(name)}:`).test($("#prompt").value);

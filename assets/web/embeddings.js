// The embedding browser: one card per textual-inversion embedding the engine knows. A click adds
// the embedding's name to the prompt box used last (often the negative one), or takes it out.
import * as api from "./api.js";
import { $, $$, el } from "./dom.js";
import { t } from "./i18n.js";

let loaded = {};
let skipped = {};
let target = "prompt"; // the id of the prompt box a click writes to

const escapeRe = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
const wordRe = (name) => new RegExp(`(^|[\\s,(\\[])${escapeRe(name)}(?=$|[\\s,:)\\]])`, "i");

/** True when `name` stands as a word in the text (the engine matches names case-insensitively). */
export const hasWord = (text, name) => wordRe(name).test(text);

/** The text with `name` added at the end (after ", "), or taken out when it stands alone between commas. */
export function toggleWord(text, name) {
  const item = new RegExp(`(^|,)\\s*${escapeRe(name)}\\s*(?=,|$)`, "i");
  if (item.test(text)) return text.replace(item, "").replace(/^\s*,\s*/, "").trim();
  if (hasWord(text, name)) return text; // already there in another form, e.g. with a weight
  const sep = !text.trim() ? "" : /,\s*$/.test(text) ? (/\s$/.test(text) ? "" : " ") : ", ";
  return `${text}${sep}${name}`;
}

function card(name, info, usable) {
  const vectors = t("emb.vectors", { n: info.vectors });
  const title = usable ? `${name}\n${vectors}\n${t("emb.title")}` : `${name}\n${t("emb.skipped", { n: info.shape })}`;
  return el("button", {
    type: "button", class: `emb-card${usable ? "" : " skipped"}`, title, dataset: { embedding: name },
    disabled: !usable,
    onclick: () => {
      const area = $(`#${target}`);
      area.value = toggleWord(area.value, name);
      area.dispatchEvent(new Event("input", { bubbles: true }));
      markActive();
    },
  },
  el("span", { class: "lora-name" }, name),
  el("span", { class: "lora-meta" }, usable ? vectors : t("emb.other")));
}

export function markActive() {
  const text = `${$("#prompt").value}\n${$("#negative_prompt").value}`;
  for (const node of $$(".emb-card")) node.classList.toggle("active", hasWord(text, node.dataset.embedding));
}

function render() {
  const filter = $("#emb-search").value.trim().toLowerCase();
  const match = (name) => !filter || name.toLowerCase().includes(filter);
  const cards = [
    ...Object.entries(loaded).filter(([n]) => match(n)).map(([n, info]) => card(n, info, true)),
    ...Object.entries(skipped).filter(([n]) => match(n)).map(([n, info]) => card(n, info, false)),
  ];
  const grid = $("#emb-grid");
  grid.replaceChildren(...cards);
  const count = Object.keys(loaded).length;
  if (!count && !Object.keys(skipped).length) grid.append(el("p", { class: "muted" }, t("emb.none")));
  $("#emb-count").textContent = count ? String(count) : "";
  $("#emb-target").textContent = t(target === "prompt" ? "emb.to.prompt" : "emb.to.negative");
  markActive();
}

async function load(refresh = false) {
  const error = $("#emb-error");
  error.textContent = "";
  try {
    if (refresh) await api.post("/sdapi/v1/refresh-embeddings");
    const res = await api.get("/sdapi/v1/embeddings");
    loaded = res.loaded || {};
    skipped = res.skipped || {};
  } catch (err) {
    error.textContent = err.message;
  }
  render();
}

export function initEmbeddings() {
  for (const id of ["prompt", "negative_prompt"]) {
    $(`#${id}`).addEventListener("focus", () => {
      target = id;
      $("#emb-target").textContent = t(id === "prompt" ? "emb.to.prompt" : "emb.to.negative");
    });
    $(`#${id}`).addEventListener("input", markActive);
  }
  $("#emb-search").addEventListener("input", render);
  $("#emb-refresh").addEventListener("click", () => load(true));
  document.addEventListener("maple:lang", render);
  return load();
}

// Checkpoint and VAE pickers, the engine badge, the demo-model notice and the start-up wait.
import * as api from "./api.js";
import { $, el } from "./dom.js";
import { fillSelect } from "./form.js";
import { currentLang, t } from "./i18n.js";

const ckpt = () => $("#checkpoint");
const vae = () => $("#vae");
let current = { checkpoint: "", vae: "Automatic" };
let statusTimer = 0;

function setStatus(kind, text) {
  const node = $("#model-status");
  clearTimeout(statusTimer);
  node.className = `status ${kind}`;
  node.textContent = text;
  if (kind === "ok") statusTimer = setTimeout(() => (node.textContent = ""), 5000);
}

const baseName = (s) => String(s || "").split(/[\\/]/).pop();

function matchCheckpoint(models, wanted) {
  if (!wanted) return "";
  const found = models.find((m) => [m.title, m.model_name, m.filename, baseName(m.filename)].includes(wanted))
    || models.find((m) => m.title.startsWith(wanted) || wanted.startsWith(m.model_name));
  return found ? found.title : wanted;
}

// Files that cannot be used stay in the pickers, disabled, with their plain sentence (from the engine).
let unusable = [];
const PICKER_KINDS = { checkpoint: ["checkpoint", "unknown"], vae: ["vae"] };

function showUnusable(select, kinds) {
  select.querySelector("optgroup.unusable")?.remove();
  const items = unusable.filter((u) => kinds.includes(u.kind));
  if (!items.length) return;
  const group = el("optgroup", { class: "unusable", label: t("models.unusable") });
  for (const u of items) {
    const reason = u.sentence[currentLang()] || u.sentence.en;
    group.append(el("option", { value: `unusable:${u.name}`, disabled: true, title: reason }, `${u.name} — ${reason}`));
  }
  select.append(group);
}

function paintUnusable() {
  showUnusable(ckpt(), PICKER_KINDS.checkpoint);
  showUnusable(vae(), PICKER_KINDS.vae);
}

export async function loadModelLists() {
  const [allModels, vaes, options, broken] = await Promise.all([
    api.get("/sdapi/v1/sd-models"), api.get("/sdapi/v1/sd-vae"), api.get("/sdapi/v1/options"),
    api.get("/maple/v1/unusable-models").catch(() => []),
  ]);
  unusable = broken;
  const failed = new Set(broken.map((u) => u.title));
  const models = allModels.filter((m) => !failed.has(m.title) || m.title === options.sd_model_checkpoint);
  fillSelect(ckpt(), models.map((m) => [m.title, m.title]));
  current.checkpoint = matchCheckpoint(models, options.sd_model_checkpoint);
  if (current.checkpoint && ![...ckpt().options].some((o) => o.value === current.checkpoint)) {
    fillSelect(ckpt(), [...models.map((m) => [m.title, m.title]), [current.checkpoint, current.checkpoint]]);
  }
  ckpt().value = current.checkpoint;
  const vaeNames = vaes.map((v) => v.model_name).filter((n) => n !== "Automatic" && n !== "None");
  fillSelect(vae(), [["Automatic", t("vae.auto")], ["None", t("vae.none")], ...vaeNames.map((n) => [n, n])]);
  vae().options[0].dataset.i18n = "vae.auto"; // translated again when the language changes
  vae().options[1].dataset.i18n = "vae.none";
  current.vae = options.sd_vae || "Automatic";
  vae().value = vaeNames.includes(current.vae) || ["Automatic", "None"].includes(current.vae) ? current.vae : "Automatic";
  paintUnusable();
}

async function switchOption(select, key, previous) {
  const value = select.value;
  const label = select.selectedOptions[0]?.textContent || value;
  ckpt().disabled = vae().disabled = true;
  document.body.classList.add("model-loading");
  setStatus("loading", t("model.loading", { name: label }));
  const started = performance.now();
  try {
    await api.post("/sdapi/v1/options", { [key]: value });
    current[key === "sd_vae" ? "vae" : "checkpoint"] = value;
    setStatus("ok", t("model.loaded", { s: ((performance.now() - started) / 1000).toFixed(1) }));
    await refreshInfo();
  } catch (err) {
    select.value = previous;
    setStatus("error", t("model.failed", { msg: err.message }));
    if (key === "sd_model_checkpoint") await listFailure(value, previous);
  } finally {
    ckpt().disabled = vae().disabled = false;
    document.body.classList.remove("model-loading");
  }
}

/** After a failed load: the file is now among the unusable ones; say its sentence in the page's language. */
async function listFailure(value, previous) {
  try {
    await loadModelLists();
  } catch {
    return;
  }
  ckpt().value = previous;
  const failed = unusable.find((u) => u.title === value);
  if (failed) setStatus("error", t("model.failed", { msg: failed.sentence[currentLang()] || failed.sentence.en }));
}

export async function refreshInfo() {
  const info = await api.get("/maple/v1/info");
  const notice = $("#demo-notice");
  notice.hidden = !info.demo;
  const text = notice.querySelector("[data-i18n]");
  if (text) {
    text.dataset.i18n = info.demo_model === "shapes" ? "builtin.notice" : "demo.notice";
    text.textContent = t(text.dataset.i18n);
  }
  const badge = $("#engine-badge");
  badge.textContent = [info.device, info.precision].filter(Boolean).join(" · ");
  badge.title = [`Maple ${info.version || ""}`, info.vram_mode ? `VRAM: ${info.vram_mode}` : ""].filter(Boolean).join(" · ");
  badge.hidden = !badge.textContent;
  return info;
}

async function rescan() {
  setStatus("loading", "…");
  try {
    await Promise.all(["refresh-checkpoints", "refresh-vae"].map((p) => api.post(`/sdapi/v1/${p}`)));
    await loadModelLists();
    setStatus("ok", "✓");
  } catch (err) {
    setStatus("error", err.message);
  }
}

/** Wait for /maple/v1/ready, showing a notice while the engine loads its model. */
export async function waitReady() {
  const notice = $("#engine-notice");
  for (;;) {
    try {
      const ready = await api.get("/maple/v1/ready");
      if (ready.ready) break;
      notice.textContent = t("engine.starting");
    } catch {
      notice.textContent = t("engine.down");
    }
    notice.hidden = false;
    await new Promise((r) => setTimeout(r, 1000));
  }
  notice.hidden = true;
}

export async function initModels() {
  ckpt().addEventListener("change", () => switchOption(ckpt(), "sd_model_checkpoint", current.checkpoint));
  vae().addEventListener("change", () => switchOption(vae(), "sd_vae", current.vae));
  $("#refresh-models").addEventListener("click", rescan);
  document.addEventListener("maple:lang", paintUnusable);
  try {
    await Promise.all([loadModelLists(), refreshInfo()]);
  } catch (err) {
    setStatus("error", err.message);
  }
}

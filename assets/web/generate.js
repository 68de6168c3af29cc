// Generate / Interrupt / Skip, the progress bar with ETA and the live preview.
import * as api from "./api.js";
import { controlnetPayload, takeMaps } from "./controlnet.js";
import { $, pngDataURL, stripDataURL } from "./dom.js";
import { clearFieldErrors, formValues, showFieldError } from "./form.js";
import { addResults, restoreStage, showPreview } from "./gallery.js";
import { t } from "./i18n.js";
import { initImage, maskDataURL } from "./maskeditor.js";
import { setFieldValue } from "./store.js";
import { selectedStyles } from "./styles.js";

const POLL_MS = 400;
let running = false;
let lastSeed = null;

export const isRunning = () => running;

function basePayload(v) {
  return {
    prompt: v.prompt, negative_prompt: v.negative_prompt, seed: v.seed, sampler_name: v.sampler_name,
    scheduler: v.scheduler, steps: v.steps, cfg_scale: v.cfg_scale, width: v.width, height: v.height,
    batch_size: v.batch_size, n_iter: v.n_iter, send_images: true, save_images: true,
    styles: selectedStyles(), subseed: v.subseed, subseed_strength: v.subseed_strength, tiling: v.tiling,
    seed_resize_from_w: v.seed_resize_from_w || -1, seed_resize_from_h: v.seed_resize_from_h || -1,
    override_settings: { CLIP_stop_at_last_layers: v.clip_skip, randn_source: v.randn_source,
      eta_noise_seed_delta: v.eta_noise_seed_delta }, override_settings_restore_afterwards: true,
  };
}

function txt2imgPayload(v) {
  const payload = basePayload(v);
  if (v.enable_hr) {
    Object.assign(payload, { enable_hr: true, hr_scale: v.hr_scale, hr_upscaler: v.hr_upscaler,
      hr_second_pass_steps: v.hr_second_pass_steps, denoising_strength: v.hr_denoise });
  }
  return payload;
}

function img2imgPayload(v) {
  const payload = Object.assign(basePayload(v), {
    init_images: [stripDataURL(initImage())], denoising_strength: v.denoising_strength, resize_mode: v.resize_mode,
  });
  const mask = maskDataURL();
  if (mask) {
    Object.assign(payload, { mask: stripDataURL(mask), mask_blur: v.mask_blur, inpainting_fill: v.inpainting_fill,
      inpaint_full_res: v.inpaint_full_res, inpainting_mask_invert: 0 });
  }
  return payload;
}

function setRunning(on) {
  running = on;
  document.body.classList.toggle("running", on);
  $("#generate").disabled = on;
  $("#interrupt").disabled = $("#skip").disabled = !on;
  $("#generate span[data-i18n]").textContent = t(on ? "generating" : "generate");
  $("#progress").classList.toggle("idle", !on); // keeps its place: the stage below does not move
  if (on) {
    $("#progress-fill").style.width = "0%";
    $("#progress-text").textContent = t("progress.waiting");
  }
}

function showProgress(p) {
  const s = p.state || {};
  if (!s.job_count && !s.sampling_steps) return;
  $("#progress-fill").style.width = `${Math.round((p.progress || 0) * 1000) / 10}%`;
  const parts = [];
  if (s.sampling_steps) parts.push(t("progress.step", { a: s.sampling_step, b: s.sampling_steps }));
  if (s.job_count > 1) parts.push(t("progress.image", { a: Math.min(s.job_no + 1, s.job_count), b: s.job_count }));
  if (p.eta_relative > 0) parts.push(t("progress.eta", { s: p.eta_relative.toFixed(1) }));
  $("#progress-text").textContent = parts.join(" · ");
  if (p.current_image) showPreview(pngDataURL(p.current_image));
}

function startPolling() {
  let stopped = false;
  const loop = async () => {
    while (!stopped) {
      try {
        const p = await api.get("/sdapi/v1/progress?skip_current_image=false");
        if (!stopped) showProgress(p);
      } catch {
        /* a missed poll is fine; the request itself reports real errors */
      }
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  };
  loop();
  return () => (stopped = true);
}

function parseInfo(info) {
  if (info && typeof info === "object") return info;
  try {
    return JSON.parse(info || "{}");
  } catch {
    return {};
  }
}

function showError(err) {
  if (err.field && showFieldError(err.field, err.message)) return;
  const box = $("#gen-error");
  box.textContent = err.message;
  box.hidden = false;
}

function results(res, mode, payload) {
  const info = parseInfo(res.info);
  const texts = info.infotexts || [];
  const { images, maps } = takeMaps(res.images || [], payload); // ControlNet's detected maps come last
  const offset = Math.max(0, images.length - texts.length); // a leading grid image has no own text
  lastSeed = info.seed ?? lastSeed;
  const pictures = images.map((b64, i) => ({
    src: pngDataURL(b64), infotext: texts[i - offset] ?? info.infotexts?.[0] ?? "",
    seed: (info.all_seeds || [])[i - offset] ?? info.seed, mode,
  }));
  return [...pictures, ...maps.map((b64) => ({ src: pngDataURL(b64), infotext: "", seed: null, mode, detected: true }))];
}

export async function generate(mode) {
  if (running) return;
  clearFieldErrors();
  $("#gen-error").hidden = true;
  if (mode === "img2img" && !initImage()) {
    showFieldError("init_images", t("init.missing"));
    return;
  }
  const v = formValues();
  const payload = mode === "img2img" ? img2imgPayload(v) : txt2imgPayload(v);
  try {
    Object.assign(payload, controlnetPayload(mode));
  } catch (err) {
    showError(err);
    return;
  }
  setRunning(true);
  const stop = startPolling();
  try {
    const res = await api.post(`/sdapi/v1/${mode}`, payload);
    const items = results(res, mode, payload);
    if (items.length) addResults(items);
    else restoreStage();
  } catch (err) {
    restoreStage();
    showError(err);
  } finally {
    stop();
    setRunning(false);
  }
}

async function control(action) {
  if (!running) return;
  try {
    await api.post(`/sdapi/v1/${action}`);
    if (action === "interrupt") $("#progress-text").textContent = t("interrupted");
  } catch (err) {
    showError(err);
  }
}

export const interrupt = () => control("interrupt");

export function initGenerate(currentMode) {
  $("#generate").addEventListener("click", () => generate(currentMode()));
  $("#interrupt").addEventListener("click", interrupt);
  $("#skip").addEventListener("click", () => control("skip"));
  $("#seed-reuse").addEventListener("click", () => lastSeed !== null && setFieldValue($("#seed"), lastSeed));
}

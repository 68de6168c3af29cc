// The ControlNet panel under the prompt: units with a picture, control type, preprocessor, model and
// settings; "Preview" runs the preprocessor (/controlnet/detect) and shows the detected map, and the
// maps a generation returns are kept beside its pictures. Requests use the extension's unit fields.
import * as api from "./api.js";
import { $, dropZone, el, pngDataURL, readAsDataURL, stripDataURL } from "./dom.js";
import { currentLang } from "./i18n.js";

const TEXT = {
  en: {
    title: "ControlNet", unit: "Unit {n}", enable: "Enable", drop: "Drop a picture here or click (img2img: empty uses the init image)",
    type: "Control type", module: "Preprocessor", model: "Model", weight: "Weight", start: "Guidance start",
    end: "Guidance end", res: "Processor resolution", mode: "Control mode", resize: "Resize mode",
    perfect: "Pixel perfect", lowvram: "Low VRAM", preview: "Preview the map", clear: "Remove the picture",
    lowvramtip: "Keep this unit's model in main memory between pictures: it goes onto the graphics card only while a picture is made (less VRAM, a little slower)",
    lowvramnote: "Low VRAM only matters on a GPU; this machine computes on the CPU, where it changes nothing.",
    nomodel: "Choose a ControlNet model for unit {n}.", nopicture: "Drop a picture into unit {n} first.",
    "Balanced": "Balanced", "My prompt is more important": "My prompt is more important",
    "ControlNet is more important": "ControlNet is more important", "Just Resize": "Just Resize",
    "Crop and Resize": "Crop and Resize", "Resize and Fill": "Resize and Fill", on: "{n} on",
  },
  zh: {
    title: "ControlNet", unit: "单元 {n}", enable: "启用", drop: "拖入图片或点击选择（图生图：留空则用原图）",
    type: "控制类型", module: "预处理器", model: "模型", weight: "权重", start: "引导开始",
    end: "引导结束", res: "预处理分辨率", mode: "控制模式", resize: "缩放模式",
    perfect: "完美像素", lowvram: "低显存", preview: "预览处理结果", clear: "移除图片",
    lowvramtip: "生成间隙把本单元的模型放在内存里，只在出图时才放进显卡（更省显存，稍慢）",
    lowvramnote: "低显存只在使用 GPU 时有用；本机用 CPU 计算，勾选与否没有区别。",
    nomodel: "请为单元 {n} 选择 ControlNet 模型。", nopicture: "请先为单元 {n} 放入图片。",
    "Balanced": "均衡", "My prompt is more important": "更偏向提示词", "ControlNet is more important": "更偏向 ControlNet",
    "Just Resize": "仅调整大小", "Crop and Resize": "裁剪后缩放", "Resize and Fill": "缩放后填充", on: "已启用 {n} 个",
  },
};
const CONTROL_MODES = ["Balanced", "My prompt is more important", "ControlNet is more important"];
const RESIZE_MODES = ["Just Resize", "Crop and Resize", "Resize and Fill"];
const tr = (key, vars = {}) => String((TEXT[currentLang()] || TEXT.en)[key] ?? TEXT.en[key] ?? key)
  .replace(/\{(\w+)\}/g, (_, k) => String(vars[k] ?? ""));

let types = {};
let modules = {};
let onCPU = false; // /maple/v1/info's device: the Low VRAM note says it changes nothing there
const units = [];

const labelled = (key, node) => el("label", { class: "field" }, el("span", { "data-cn": key }, tr(key)), node);
const number = (cls, value, min, max, step) => el("input", { type: "number", class: cls, value, min, max, step });
const options = (select, values, label = (v) => v) => {
  const keep = select.value;
  select.replaceChildren(...values.map((v) => el("option", { value: v }, label(v))));
  if (values.includes(keep)) select.value = keep;
};

function buildUnit(index) {
  const u = { index, image: null, node: null };
  const file = el("input", { type: "file", accept: "image/*", hidden: true });
  const picture = el("img", { class: "cn-picture", alt: "", hidden: true });
  const drop = el("div", { class: "drop cn-drop" }, el("div", { class: "drop-hint", "data-cn": "drop" }, tr("drop")), picture, file);
  const map = el("img", { class: "cn-map", alt: "", hidden: true });
  const q = (name) => u.node.querySelector(name);
  u.node = el("div", { class: "cn-unit", dataset: { unit: String(index) }, hidden: index > 0 },
    el("label", { class: "check" }, el("input", { type: "checkbox", class: "cn-enabled" }), el("span", { "data-cn": "enable" }, tr("enable"))),
    el("div", { class: "cn-images" }, drop, map),
    el("div", { class: "cn-actions" },
      el("button", { type: "button", class: "ghost small cn-preview", "data-cn": "preview" }, tr("preview")),
      el("button", { type: "button", class: "ghost small cn-clear", "data-cn": "clear" }, tr("clear"))),
    el("div", { class: "row" }, labelled("type", el("select", { class: "cn-type" })), labelled("module", el("select", { class: "cn-module" }))),
    el("div", { class: "row" }, labelled("model", el("select", { class: "cn-model" })), labelled("weight", number("cn-weight", 1, 0, 2, 0.05))),
    el("div", { class: "row" }, labelled("start", number("cn-start", 0, 0, 1, 0.01)), labelled("end", number("cn-end", 1, 0, 1, 0.01))),
    el("div", { class: "row" }, labelled("res", number("cn-res", 512, 64, 2048, 8)), el("div", { class: "cn-thresholds" })),
    el("div", { class: "row" }, labelled("mode", el("select", { class: "cn-mode" })), labelled("resize", el("select", { class: "cn-resize" }))),
    el("div", { class: "row" },
      el("label", { class: "check" }, el("input", { type: "checkbox", class: "cn-perfect" }), el("span", { "data-cn": "perfect" }, tr("perfect"))),
      el("label", { class: "check", "data-cn-title": "lowvramtip", title: tr("lowvramtip") },
        el("input", { type: "checkbox", class: "cn-lowvram" }), el("span", { "data-cn": "lowvram" }, tr("lowvram")))),
    el("p", { class: "small-note cn-lowvram-note", "data-cn": "lowvramnote", hidden: !onCPU }, tr("lowvramnote")),
    el("div", { class: "field-error cn-error" }));
  dropZone(drop, file, async (f) => setPicture(u, await readAsDataURL(f)));
  q(".cn-clear").addEventListener("click", () => setPicture(u, null));
  q(".cn-type").addEventListener("change", () => fillType(u, true));
  q(".cn-module").addEventListener("change", () => fillSliders(u));
  q(".cn-preview").addEventListener("click", () => preview(u));
  q(".cn-enabled").addEventListener("change", summary);
  return u;
}

function setPicture(u, dataURL) {
  u.image = dataURL;
  const img = u.node.querySelector(".cn-picture");
  img.hidden = !dataURL;
  if (dataURL) img.src = dataURL;
  u.node.querySelector(".cn-drop").classList.toggle("has-image", !!dataURL);
  u.node.querySelector(".cn-drop .drop-hint").hidden = !!dataURL;
  if (dataURL && !u.node.querySelector(".cn-enabled").checked) {
    u.node.querySelector(".cn-enabled").checked = true;
    summary();
  }
}

export function showMap(u, src) {
  const map = u.node.querySelector(".cn-map");
  map.hidden = !src;
  if (src) map.src = src;
}

function fillType(u, chosen = false) {
  const type = types[u.node.querySelector(".cn-type").value] || types.All || { module_list: ["none"], model_list: ["None"] };
  options(u.node.querySelector(".cn-module"), type.module_list);
  options(u.node.querySelector(".cn-model"), type.model_list);
  const module = u.node.querySelector(".cn-module");
  if (type.default_option && (chosen || !type.module_list.includes(module.value))) module.value = type.default_option;
  const model = u.node.querySelector(".cn-model");
  if (chosen && type.default_model) model.value = type.default_model;
  fillSliders(u);
}

function fillSliders(u) {
  const sliders = (modules[u.node.querySelector(".cn-module").value] || {}).sliders || [];
  const res = sliders.find((s) => s.name === "Preprocessor Resolution");
  u.node.querySelector(".cn-res").disabled = !res;
  const extra = sliders.filter((s) => s !== res).slice(0, 2);
  u.node.querySelector(".cn-thresholds").replaceChildren(...extra.map((s, i) => el("label", { class: "field" },
    el("span", {}, s.name), number(i ? "cn-threshold-b" : "cn-threshold-a", s.value, s.min, s.max, s.step ?? 1))));
}

function read(u) {
  const q = (name) => u.node.querySelector(name);
  const num = (name, fallback) => (q(name) && q(name).value !== "" ? Number(q(name).value) : fallback);
  const unit = {
    enabled: true, module: q(".cn-module").value || "none", model: q(".cn-model").value || "None",
    weight: num(".cn-weight", 1), guidance_start: num(".cn-start", 0), guidance_end: num(".cn-end", 1),
    processor_res: num(".cn-res", 512), threshold_a: num(".cn-threshold-a", -1), threshold_b: num(".cn-threshold-b", -1),
    control_mode: q(".cn-mode").value, resize_mode: q(".cn-resize").value, pixel_perfect: q(".cn-perfect").checked,
    low_vram: q(".cn-lowvram").checked,
  };
  if (u.image) unit.image = stripDataURL(u.image);
  return unit;
}

const enabledUnits = () => units.filter((u) => u.node.querySelector(".cn-enabled").checked);

/** Extra request fields for the page's generation: the enabled units (none: nothing). */
export function controlnetPayload(mode) {
  const active = enabledUnits();
  for (const u of active) {
    const modelFree = (modules[u.node.querySelector(".cn-module").value] || {}).model_free; // reference_only
    if (!modelFree && (!u.node.querySelector(".cn-model").value || u.node.querySelector(".cn-model").value === "None")) {
      throw new api.ApiError(tr("nomodel", { n: u.index }));
    }
    if (mode !== "img2img" && !u.image) throw new api.ApiError(tr("nopicture", { n: u.index }));
  }
  return active.length ? { alwayson_scripts: { controlnet: { args: active.map(read) } } } : {};
}

/** The engine answers the pictures, then one detected map per enabled unit: show each in its unit. */
export function takeMaps(images, payload) {
  const sent = payload.alwayson_scripts?.controlnet?.args?.length || 0;
  if (!sent || images.length <= sent) return { images, maps: [] };
  const maps = images.slice(images.length - sent);
  enabledUnits().forEach((u, i) => showMap(u, pngDataURL(maps[i])));
  return { images: images.slice(0, images.length - sent), maps };
}

async function preview(u) {
  const error = u.node.querySelector(".cn-error");
  error.textContent = "";
  if (!u.image) {
    error.textContent = tr("nopicture", { n: u.index });
    return;
  }
  const unit = read(u);
  try {
    const res = await api.post("/controlnet/detect", {
      controlnet_module: unit.module, controlnet_input_images: [unit.image], controlnet_processor_res: unit.processor_res,
      controlnet_threshold_a: unit.threshold_a, controlnet_threshold_b: unit.threshold_b,
    });
    showMap(u, pngDataURL(res.images[0]));
  } catch (err) {
    error.textContent = err.message;
  }
}

function summary() {
  const n = enabledUnits().length;
  $("#cn-count").textContent = n ? tr("on", { n }) : "";
}

function relabel() {
  for (const node of $("#cn-card").querySelectorAll("[data-cn]")) node.textContent = tr(node.dataset.cn);
  for (const node of $("#cn-card").querySelectorAll("[data-cn-title]")) node.title = tr(node.dataset.cnTitle);
  $$units((u) => {
    options(u.node.querySelector(".cn-mode"), CONTROL_MODES, tr);
    options(u.node.querySelector(".cn-resize"), RESIZE_MODES, tr);
  });
  for (const tab of $("#cn-tabs").children) tab.textContent = tr("unit", { n: tab.dataset.unit });
  summary();
}

const $$units = (fn) => units.forEach(fn);

function selectUnit(index) {
  for (const tab of $("#cn-tabs").children) tab.classList.toggle("active", tab.dataset.unit === String(index));
  $$units((u) => (u.node.hidden = u.index !== index));
}

export async function refreshControlNet() {
  try {
    const [t, m] = await Promise.all([api.get("/controlnet/control_types"), api.get("/controlnet/module_list")]);
    types = t.control_types || {};
    modules = m.module_detail || {};
  } catch {
    return; // the lists stay as they were; a generation reports real errors
  }
  $$units((u) => {
    options(u.node.querySelector(".cn-type"), Object.keys(types));
    fillType(u);
  });
}

export async function initControlNet() {
  const card = $("#cn-card");
  if (!card) return;
  let count = 3;
  try {
    count = Math.max(1, Math.min(8, (await api.get("/controlnet/settings")).control_net_unit_count || 3));
  } catch {
    /* the extension's default */
  }
  onCPU = (await api.get("/maple/v1/info").catch(() => ({}))).device === "cpu";
  for (let i = 0; i < count; i++) {
    const u = buildUnit(i);
    units.push(u);
    $("#cn-units").append(u.node);
    $("#cn-tabs").append(el("button", { type: "button", class: "ghost small", dataset: { unit: String(i) } }, tr("unit", { n: i })));
  }
  $("#cn-tabs").addEventListener("click", (e) => e.target.dataset.unit && selectUnit(Number(e.target.dataset.unit)));
  card.addEventListener("toggle", () => card.open && refreshControlNet());
  document.addEventListener("maple:lang", relabel);
  relabel();
  $$units((u) => (u.node.querySelector(".cn-resize").value = "Crop and Resize")); // the extension's default
  selectUnit(0);
  await refreshControlNet();
}

// img2img's source image and the inpaint mask painted over it on a canvas.
import { $, dropZone, el, loadImage, readAsDataURL } from "./dom.js";
import { setFieldValue } from "./store.js";

const MASK_COLOR = [255, 61, 110];
const state = { src: null, tool: "brush", last: null, width: 0, height: 0 };
const canvas = () => $("#mask-canvas");
const ctx = () => canvas().getContext("2d", { willReadFrequently: true });

async function toDataURL(src) {
  if (src.startsWith("data:")) return src;
  const blob = await (await fetch(src)).blob();
  return readAsDataURL(blob);
}

/** Show an image (data: URL or same-origin URL) as img2img's source and start an empty mask. */
export async function setInitImage(src) {
  const data = await toDataURL(src);
  const img = await loadImage(data);
  state.src = data;
  state.width = img.naturalWidth;
  state.height = img.naturalHeight;
  $("#init-img").src = data;
  canvas().width = state.width;
  canvas().height = state.height;
  $(".mask-stage").hidden = false;
  $("#init-drop .drop-hint").hidden = true;
  $("#init-drop").classList.add("has-image");
}

export const initImage = () => state.src;

function point(e) {
  const rect = canvas().getBoundingClientRect();
  const scale = canvas().width / rect.width;
  return { x: (e.clientX - rect.left) * scale, y: (e.clientY - rect.top) * scale, scale };
}

function stroke(from, to) {
  const c = ctx();
  c.globalCompositeOperation = state.tool === "erase" ? "destination-out" : "source-over";
  c.strokeStyle = c.fillStyle = `rgb(${MASK_COLOR.join(",")})`;
  c.lineCap = c.lineJoin = "round";
  c.lineWidth = Number($("#brush-size").value) * to.scale;
  c.beginPath();
  c.moveTo(from.x, from.y);
  c.lineTo(to.x + 0.01, to.y);
  c.stroke();
}

function moveCursor(e) {
  const cursor = $("#brush-cursor");
  const rect = $(".mask-stage").getBoundingClientRect();
  const size = Number($("#brush-size").value);
  cursor.style.cssText = `width:${size}px;height:${size}px;left:${e.clientX - rect.left}px;top:${e.clientY - rect.top}px`;
  cursor.classList.toggle("erase", state.tool === "erase");
}

function bindPainting() {
  const c = canvas();
  c.addEventListener("pointerdown", (e) => {
    c.setPointerCapture(e.pointerId);
    state.last = point(e);
    stroke(state.last, state.last);
  });
  c.addEventListener("pointermove", (e) => {
    moveCursor(e);
    if (!state.last) return;
    const p = point(e);
    stroke(state.last, p);
    state.last = p;
  });
  const end = () => (state.last = null);
  c.addEventListener("pointerup", end);
  c.addEventListener("pointercancel", end);
  c.addEventListener("pointerleave", () => $("#brush-cursor").classList.add("off"));
  c.addEventListener("pointerenter", () => $("#brush-cursor").classList.remove("off"));
}

function invert() {
  const c = ctx();
  const data = c.getImageData(0, 0, state.width, state.height);
  const px = data.data;
  for (let i = 0; i < px.length; i += 4) {
    [px[i], px[i + 1], px[i + 2]] = MASK_COLOR;
    px[i + 3] = 255 - px[i + 3];
  }
  c.putImageData(data, 0, 0);
}

/** The mask as a black and white PNG data: URL (white = repaint), or null when nothing is painted. */
export function maskDataURL() {
  if (!state.src) return null;
  const src = ctx().getImageData(0, 0, state.width, state.height).data;
  const out = new ImageData(state.width, state.height);
  let painted = false;
  for (let i = 0; i < src.length; i += 4) {
    const v = src[i + 3] > 127 ? 255 : 0;
    painted ||= v > 0;
    out.data[i] = out.data[i + 1] = out.data[i + 2] = v;
    out.data[i + 3] = 255;
  }
  if (!painted) return null;
  const tmp = el("canvas", { width: state.width, height: state.height });
  tmp.getContext("2d").putImageData(out, 0, 0);
  return tmp.toDataURL("image/png");
}

function setTool(tool) {
  state.tool = tool;
  $("#tool-brush").classList.toggle("active", tool === "brush");
  $("#tool-erase").classList.toggle("active", tool === "erase");
}

function useImageSize() {
  if (!state.src) return;
  const scale = Math.min(1, 2048 / Math.max(state.width, state.height));
  const round8 = (v) => Math.max(64, Math.round((v * scale) / 8) * 8);
  setFieldValue($("#width"), round8(state.width));
  setFieldValue($("#height"), round8(state.height));
}

export function initMaskEditor(onError) {
  dropZone($("#init-drop"), $("#init-file"), async (file) => {
    try {
      await setInitImage(await readAsDataURL(file));
    } catch {
      onError(file.name);
    }
  });
  $("#init-pick").addEventListener("click", () => $("#init-file").click());
  $("#init-size").addEventListener("click", useImageSize);
  $("#tool-brush").addEventListener("click", () => setTool("brush"));
  $("#tool-erase").addEventListener("click", () => setTool("erase"));
  $("#mask-clear").addEventListener("click", () => ctx().clearRect(0, 0, state.width, state.height));
  $("#mask-invert").addEventListener("click", invert);
  bindPainting();
}

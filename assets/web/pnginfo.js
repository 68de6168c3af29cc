// PNG info: drop a PNG, the engine reads its parameters (the page reads them too if it cannot).
import * as api from "./api.js";
import { $, copyText, dropZone, el, readAsDataURL, stripDataURL } from "./dom.js";
import { t } from "./i18n.js";
import { parseInfotext, pngParameters } from "./infotext.js";

let current = { src: null, infotext: "" };
let handlers = { reuse: () => {}, toImg2img: () => {}, toast: () => {} };

function renderTable(text) {
  const { prompt, negative, params } = parseInfotext(text);
  const rows = [[t("prompt"), prompt], [t("negative"), negative], ...Object.entries(params)].filter(([, v]) => v !== "");
  $("#png-table").replaceChildren(...rows.map(([k, v]) => el("tr", {}, el("th", {}, k), el("td", {}, String(v)))));
}

function render(text) {
  current.infotext = text || "";
  $("#png-empty").hidden = Boolean(text);
  $("#png-empty").textContent = t(text === null ? "png.empty" : "png.none");
  if (!text) $("#png-empty").hidden = false;
  $("#png-text").hidden = $("#png-table").hidden = $("#png-actions").hidden = !text;
  $("#png-text").textContent = text || "";
  if (text) renderTable(text);
}

async function engineInfo(dataURL) {
  const res = await api.post("/sdapi/v1/png-info", { image: stripDataURL(dataURL) });
  return res.info || "";
}

async function readFile(file) {
  $("#png-error").textContent = "";
  const dataURL = await readAsDataURL(file);
  current.src = dataURL;
  const img = $("#png-img");
  img.src = dataURL;
  img.hidden = false;
  $("#png-drop .drop-hint").hidden = true;
  $("#png-drop").classList.add("has-image");
  let text = "";
  try {
    text = await engineInfo(dataURL);
  } catch (err) {
    $("#png-error").textContent = err.message;
    text = pngParameters(await file.arrayBuffer()) || "";
  }
  render(text);
}

export function initPngInfo(h) {
  handlers = h;
  dropZone($("#png-drop"), $("#png-file"), readFile);
  $("#png-img").addEventListener("click", () => $("#png-file").click());
  $("#png-to-txt2img").addEventListener("click", () => handlers.reuse(current, "txt2img"));
  $("#png-to-img2img").addEventListener("click", () => handlers.toImg2img(current));
  $("#png-copy").addEventListener("click", async () => {
    await copyText(current.infotext);
    handlers.toast(t("copied"));
  });
  document.addEventListener("maple:lang", () => render(current.src ? current.infotext : null));
}

// A1111 infotext: "prompt\nNegative prompt: ...\nSteps: 20, Sampler: Euler a, ..." -> fields.

const PARAM_RE = /\s*(\w[\w \-/+]*):\s*("(?:\\.|[^\\"])*"|[^,]*)(?:,|$)/g;
const SCHEDULE_SUFFIXES = ["Karras", "Exponential", "Polyexponential", "SGM Uniform", "Uniform", "Simple"];

function unquote(value) {
  const v = value.trim();
  if (v.startsWith('"') && v.endsWith('"') && v.length > 1) {
    try {
      return JSON.parse(v);
    } catch {
      return v.slice(1, -1);
    }
  }
  return v;
}

/** The `key: value` pairs of a parameters line, or null when the line is not one. */
export function parseParamsLine(line) {
  const found = [...line.matchAll(PARAM_RE)].filter((m) => m[0].length);
  if (found.length < 3) return null;
  return Object.fromEntries(found.map((m) => [m[1].trim(), unquote(m[2])]));
}

/** Split infotext into {prompt, negative, params}. */
export function parseInfotext(text) {
  const lines = String(text || "").replace(/\r\n/g, "\n").trim().split("\n");
  let params = {};
  const parsed = lines.length ? parseParamsLine(lines[lines.length - 1]) : null;
  if (parsed) {
    params = parsed;
    lines.pop();
  }
  const prompt = [];
  const negative = [];
  let target = prompt;
  for (const line of lines) {
    if (line.startsWith("Negative prompt:")) {
      target = negative;
      target.push(line.slice("Negative prompt:".length).trim());
    } else target.push(line);
  }
  return { prompt: prompt.join("\n").trim(), negative: negative.join("\n").trim(), params };
}

function splitSampler(sampler, schedule) {
  if (schedule) return [sampler, schedule];
  for (const suffix of SCHEDULE_SUFFIXES) {
    if (sampler.endsWith(` ${suffix}`)) return [sampler.slice(0, -suffix.length - 1), suffix];
  }
  return [sampler, undefined];
}

const number = (v) => (v === undefined || v === "" || Number.isNaN(Number(v)) ? undefined : Number(v));

/** Form field values (by element id) for an infotext. */
export function infotextToFields(text) {
  const { prompt, negative, params: p } = parseInfotext(text);
  const fields = { prompt, negative_prompt: negative };
  if (p.Sampler) [fields.sampler_name, fields.scheduler] = splitSampler(p.Sampler, p["Schedule type"]);
  fields.steps = number(p.Steps);
  fields.cfg_scale = number(p["CFG scale"]);
  fields.seed = number(p.Seed);
  const size = /^(\d+)x(\d+)$/.exec(p.Size || "");
  if (size) [fields.width, fields.height] = [Number(size[1]), Number(size[2])];
  fields.clip_skip = number(p["Clip skip"]) ?? 1;
  fields.randn_source = ["GPU", "CPU", "NV"].includes(p.RNG) ? p.RNG : "GPU"; // A1111 writes no RNG for GPU
  fields.eta_noise_seed_delta = number(p.ENSD) ?? 0;
  const hires = p["Hires upscale"] !== undefined || p["Hires resize"] !== undefined;
  fields.enable_hr = hires;
  if (hires) {
    fields.hr_scale = number(p["Hires upscale"]);
    fields.hr_second_pass_steps = number(p["Hires steps"]) ?? 0;
    fields.hr_upscaler = p["Hires upscaler"];
    fields.hr_denoise = number(p["Denoising strength"]);
  } else {
    fields.denoising_strength = number(p["Denoising strength"]);
  }
  fields.mask_blur = number(p["Mask blur"]);
  Object.assign(fields, variationFields(p));
  fields.tiling = p.Tiling === "True";
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined));
}

/** Variation seed, its strength and "Seed resize from"; an infotext without them turns them off. */
function variationFields(p) {
  const from = /^(\d+)x(\d+)$/.exec(p["Seed resize from"] || "");
  return {
    subseed: number(p["Variation seed"]) ?? -1,
    subseed_strength: number(p["Variation seed strength"]) ?? 0,
    seed_resize_from_w: from ? Number(from[1]) : 0,
    seed_resize_from_h: from ? Number(from[2]) : 0,
  };
}

/** Read the `parameters` tEXt/iTXt chunk of a PNG in the browser (used when the engine is busy or away). */
export function pngParameters(buffer) {
  const bytes = new Uint8Array(buffer);
  const view = new DataView(buffer);
  const latin = new TextDecoder("latin1");
  const utf8 = new TextDecoder("utf-8");
  let pos = 8;
  while (pos + 12 <= bytes.length) {
    const length = view.getUint32(pos);
    const type = latin.decode(bytes.subarray(pos + 4, pos + 8));
    const data = bytes.subarray(pos + 8, pos + 8 + length);
    const nul = data.indexOf(0);
    const key = latin.decode(data.subarray(0, nul));
    if (type === "tEXt" && key === "parameters") return latin.decode(data.subarray(nul + 1));
    if (type === "iTXt" && key === "parameters" && data[nul + 1] === 0) {
      let rest = data.subarray(nul + 3);
      rest = rest.subarray(rest.indexOf(0) + 1); // language tag
      rest = rest.subarray(rest.indexOf(0) + 1); // translated keyword
      return utf8.decode(rest);
    }
    if (type === "IEND") break;
    pos += 12 + length;
  }
  return null;
}

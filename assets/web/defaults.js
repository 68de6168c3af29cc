// Starting values that follow the machine: on the CPU, or with the demo model, a size and a step
// count that finish in seconds, and a note that says why. A value the user changed is kept: the
// values Maple chose are remembered (ui.machineDefaults), so a saved value that differs from them
// is the user's own. On a GPU machine, values Maple once chose go back to the usual ones.
import { $ } from "./dom.js";
import { t } from "./i18n.js";
import { saveUI, savedValue, setFieldValue, ui } from "./store.js";

export const QUICK = { width: 256, height: 256, steps: 6, cfg_scale: 7 };
// the built-in shapes model's own size; CFG 5 follows its prompts best (docs/builtin-model.md)
export const BUILTIN = { width: 128, height: 128, steps: 10, cfg_scale: 5 };
const USUAL = { width: 512, height: 512, steps: 20, cfg_scale: 7 };

const quickMachine = (info) => info.device === "cpu" || Boolean(info.demo);
const quickValues = (info) => (info.demo_model === "shapes" ? BUILTIN : QUICK);

function noteKey(info) {
  if (info.demo_model === "shapes") return "defaults.builtin";
  return info.device === "cpu" ? "defaults.cpu" : "defaults.demo";
}

function userChose(id) {
  const saved = savedValue(id);
  const chosenByMaple = (ui.machineDefaults || {})[id];
  return saved !== undefined && String(saved) !== String(chosenByMaple);
}

function paintNote(info) {
  const note = $("#defaults-note");
  const shown = Object.keys(ui.machineDefaults || {}).length > 0;
  note.hidden = !shown;
  const values = quickValues(info);
  if (shown) note.textContent = t(noteKey(info), { w: values.width, h: values.height, steps: values.steps, cfg: values.cfg_scale });
}

/** Apply the machine's starting values to the fields the user has not set; ``info``: /maple/v1/info. */
export function applyMachineDefaults(info) {
  const quick = quickMachine(info);
  const chosen = {};
  for (const [id, value] of Object.entries(quick ? quickValues(info) : USUAL)) {
    if (userChose(id) || (!quick && savedValue(id) === undefined)) continue;
    setFieldValue($(`#${id}`), value);
    if (quick) chosen[id] = value;
  }
  saveUI({ machineDefaults: chosen });
  paintNote(info);
  document.addEventListener("maple:lang", () => paintNote(info));
}

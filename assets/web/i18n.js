// English and Chinese strings. Elements carry data-i18n (text), data-i18n-title, data-i18n-placeholder.

const STRINGS = {
  en: {
    "tab.txt2img": "txt2img", "tab.img2img": "img2img", "tab.pnginfo": "PNG info", "tab.outputs": "Outputs",
    "lang.switch": "Language", "theme.switch": "Light / dark", "theme.light": "Light theme", "theme.dark": "Dark theme",
    "checkpoint": "Checkpoint", "refresh": "Refresh", "refresh.models": "Rescan the model folders",
    "demo.notice": "The demo model is active: it draws noise, not pictures. Put a checkpoint in models/Stable-diffusion and pick it above.",
    "builtin.notice": "Maple's built-in model is active: a small model that draws coloured shapes at 128×128. Try \"a red circle on a blue background, top left\" or add <lora:maple-shapes-striped:1>. For real pictures, put a checkpoint in models/Stable-diffusion and pick it above.",
    "engine.starting": "The engine is still starting (loading the model)…",
    "engine.down": "The engine does not answer. Is it running?",
    "prompt": "Prompt", "negative": "Negative prompt",
    "prompt.placeholder": "Describe the picture… (Ctrl+Enter to generate)",
    "negative.placeholder": "What you do not want to see",
    "tokens.title": "Tokens, counted in chunks of 75",
    "init.title": "Image and mask", "init.pick": "Open", "init.size": "Use its size",
    "init.drop": "Drop an image here or click to choose", "init.missing": "Choose an image first.",
    "mask.paint": "Paint the mask", "mask.erase": "Erase the mask", "mask.brush": "Brush",
    "mask.invert": "Invert", "mask.clear": "Clear",
    "hires.title": "Hires fix", "hires.on": "on", "hires.enable": "Upscale with a second pass",
    "lora.search": "Filter LoRAs", "lora.none": "No LoRA in models/Lora yet.", "lora.title": "Click to add or remove in the prompt",
    "emb.card": "Embeddings", "emb.search": "Filter embeddings", "emb.none": "No embedding in embeddings/ yet.",
    "emb.title": "Click to add or remove in the prompt box used last", "emb.vectors": "{n} vectors",
    "emb.skipped": "Does not fit the loaded model ({n} wide)", "emb.other": "other model",
    "emb.adds": "A click adds to:", "emb.to.prompt": "the prompt", "emb.to.negative": "the negative prompt",
    "styles.add": "Styles…", "styles.remove": "Remove this style", "styles.apply": "Apply to prompt",
    "styles.save": "Save as style", "styles.save.ok": "Save", "styles.name": "Name of the new style",
    "styles.noname": "Give the style a name.", "styles.saved": "Saved the style “{name}”.",
    "styles.applied": "The styles are now part of the prompt.",
    "variation.title": "Variation seed", "subseed": "Variation seed", "subseed_strength": "Variation strength",
    "resize_from_w": "Seed from width (0: off)", "resize_from_h": "Seed from height (0: off)",
    "tiling": "Tiling (seamless texture)",
    "randn_source": "Noise source (RNG)", "ensd": "Eta noise seed delta (ENSD)",
    "generate": "Generate", "interrupt": "Interrupt", "skip": "Skip", "generating": "Generating…",
    "shortcuts": "Ctrl+Enter generates · Esc interrupts",
    "stage.empty": "Your images appear here",
    "png.drop": "Drop a PNG here or click to choose", "png.params": "Parameters", "png.empty": "No image yet.",
    "png.none": "This image carries no generation parameters.",
    "send.txt2img": "Send to txt2img", "send.img2img": "Send to img2img", "copy.info": "Copy infotext",
    "tab.extras": "Extras", "send.extras": "Send to Extras", "sent.extras": "Image sent to Extras.",
    "extras.drop": "Drop a picture here or click to choose", "extras.by": "Scale by", "extras.to": "Scale to",
    "extras.scale": "Resize", "extras.crop": "Crop to fit", "extras.upscaler1": "Upscaler 1", "extras.upscaler2": "Upscaler 2",
    "extras.visibility": "Upscaler 2 visibility", "extras.run": "Upscale", "extras.running": "Upscaling…",
    "extras.result": "Result", "extras.empty": "The upscaled picture appears here.", "extras.size": "{w}×{h}",
    "extras.missing": "Choose a picture first.", "extras.unchanged": "Upscaler 1 is None: the picture is unchanged.",
    "download": "Download", "reuse": "Reuse parameters", "close": "Close",
    "outputs.date": "Day", "outputs.none": "No images saved on this day.", "outputs.count": "{n} images",
    "sampler": "Sampling method", "scheduler": "Schedule type", "steps": "Sampling steps", "cfg": "CFG scale",
    "width": "Width", "height": "Height", "swap": "Swap width and height", "presets": "Size presets",
    "seed": "Seed", "seed.random": "Random seed (-1)", "seed.reuse": "Reuse the last seed",
    "n_iter": "Batch count", "batch_size": "Batch size", "clip_skip": "Clip skip",
    "hr_upscaler": "Upscaler", "hr_scale": "Upscale by", "hr_steps": "Hires steps (0 = same)", "hr_denoise": "Denoising strength",
    "denoise": "Denoising strength", "resize_mode": "Resize mode",
    "resize.0": "Just resize", "resize.1": "Crop and resize", "resize.2": "Resize and fill", "resize.3": "Just resize (latent upscale)",
    "mask_blur": "Mask blur", "inpainting_fill": "Masked content",
    "fill.0": "Fill", "fill.1": "Original", "fill.2": "Latent noise", "fill.3": "Latent nothing",
    "inpaint_area": "Inpaint area", "area.0": "Whole picture", "area.1": "Only masked",
    "model.loading": "Loading {name}…", "model.loaded": "Loaded in {s} s", "model.failed": "Could not load: {msg}",
    "vae.auto": "Automatic", "vae.none": "None",
    "models.unusable": "Cannot be used",
    "defaults.cpu": "No GPU here: Maple starts with {w}×{h} and {steps} steps, which finish in seconds on the CPU (512×512 with 20 steps can take minutes). Your own values are kept once you change them.",
    "defaults.demo": "The demo model draws noise: Maple starts small ({w}×{h}, {steps} steps) so it answers in seconds. Your own values are kept once you change them.",
    "defaults.builtin": "The built-in model draws at its own size, {w}×{h}, with {steps} steps and CFG {cfg}: a picture in about a second. Your own values are kept once you change them.",
    "progress.step": "Step {a}/{b}", "progress.image": "image {a}/{b}", "progress.eta": "about {s} s left",
    "progress.waiting": "Waiting for the engine…", "interrupted": "Interrupted.",
    "copied": "Copied to the clipboard.", "loaded.params": "Parameters loaded.", "sent.img2img": "Image sent to img2img.",
    "error.network": "Cannot reach the engine ({msg}).", "error.http": "The engine answered {status}.",
    "error.internal": "The engine failed while doing this ({status}). Its console has the details.",
  },
  zh: {
    "tab.txt2img": "文生图", "tab.img2img": "图生图", "tab.pnginfo": "图片信息", "tab.outputs": "输出",
    "lang.switch": "语言", "theme.switch": "浅色 / 深色", "theme.light": "浅色主题", "theme.dark": "深色主题",
    "checkpoint": "模型", "refresh": "刷新", "refresh.models": "重新扫描模型文件夹",
    "demo.notice": "当前是演示模型：它只会画出噪点，不是真正的图片。请把模型放进 models/Stable-diffusion 并在上方选择。",
    "builtin.notice": "当前是 Maple 内置模型：一个只会画彩色图形的小模型（128×128）。试试英文提示词 \"a red circle on a blue background, top left\"，或加上 <lora:maple-shapes-striped:1>。要画真正的图片，请把模型放进 models/Stable-diffusion 并在上方选择。",
    "engine.starting": "引擎仍在启动（正在加载模型）…",
    "engine.down": "引擎没有响应。它在运行吗？",
    "prompt": "正向提示词", "negative": "反向提示词",
    "prompt.placeholder": "描述你想要的画面…（Ctrl+Enter 生成）",
    "negative.placeholder": "不想出现的内容",
    "tokens.title": "词元数，每 75 个为一段",
    "init.title": "图片与蒙版", "init.pick": "打开", "init.size": "使用图片尺寸",
    "init.drop": "把图片拖到这里，或点击选择", "init.missing": "请先选择一张图片。",
    "mask.paint": "绘制蒙版", "mask.erase": "擦除蒙版", "mask.brush": "笔刷",
    "mask.invert": "反转", "mask.clear": "清除",
    "hires.title": "高清修复", "hires.on": "已开启", "hires.enable": "用第二遍放大",
    "lora.search": "筛选 LoRA", "lora.none": "models/Lora 里还没有 LoRA。", "lora.title": "点击在提示词中添加或移除",
    "emb.card": "嵌入式 (Embedding)", "emb.search": "筛选 Embedding", "emb.none": "embeddings 文件夹里还没有 Embedding。",
    "emb.title": "点击在最近使用的提示词框中添加或移除", "emb.vectors": "{n} 个向量",
    "emb.skipped": "与当前模型不匹配（宽度 {n}）", "emb.other": "其他模型",
    "emb.adds": "点击添加到：", "emb.to.prompt": "正向提示词", "emb.to.negative": "反向提示词",
    "styles.add": "预设样式…", "styles.remove": "移除这个样式", "styles.apply": "应用到提示词",
    "styles.save": "保存为样式", "styles.save.ok": "保存", "styles.name": "新样式的名称",
    "styles.noname": "请给样式起个名字。", "styles.saved": "已保存样式“{name}”。",
    "styles.applied": "样式已写入提示词。",
    "variation.title": "差异随机种子", "subseed": "差异随机种子", "subseed_strength": "差异强度",
    "resize_from_w": "从宽度调整种子（0 关）", "resize_from_h": "从高度调整种子（0 关）",
    "tiling": "平铺图（无缝纹理）",
    "randn_source": "随机数来源（RNG）", "ensd": "Eta 噪声种子偏移（ENSD）",
    "generate": "生成", "interrupt": "中止", "skip": "跳过", "generating": "生成中…",
    "shortcuts": "Ctrl+Enter 生成 · Esc 中止",
    "stage.empty": "生成的图片会显示在这里",
    "png.drop": "把 PNG 拖到这里，或点击选择", "png.params": "生成参数", "png.empty": "还没有图片。",
    "png.none": "这张图片没有生成参数。",
    "send.txt2img": "发送到文生图", "send.img2img": "发送到图生图", "copy.info": "复制参数",
    "tab.extras": "后期处理", "send.extras": "发送到后期处理", "sent.extras": "图片已发送到后期处理。",
    "extras.drop": "把图片拖到这里，或点击选择", "extras.by": "按倍数缩放", "extras.to": "缩放到指定尺寸",
    "extras.scale": "缩放倍数", "extras.crop": "裁剪以适应", "extras.upscaler1": "放大算法 1", "extras.upscaler2": "放大算法 2",
    "extras.visibility": "放大算法 2 强度", "extras.run": "放大", "extras.running": "正在放大…",
    "extras.result": "结果", "extras.empty": "放大后的图片显示在这里。", "extras.size": "{w}×{h}",
    "extras.missing": "请先选择一张图片。", "extras.unchanged": "放大算法 1 为 None：图片未改变。",
    "download": "下载", "reuse": "复用参数", "close": "关闭",
    "outputs.date": "日期", "outputs.none": "这一天没有保存的图片。", "outputs.count": "{n} 张图片",
    "sampler": "采样方法", "scheduler": "调度类型", "steps": "迭代步数", "cfg": "提示词引导系数",
    "width": "宽度", "height": "高度", "swap": "交换宽高", "presets": "常用尺寸",
    "seed": "随机种子", "seed.random": "随机种子 (-1)", "seed.reuse": "使用上一次的种子",
    "n_iter": "总批次数", "batch_size": "单批数量", "clip_skip": "Clip 跳过层",
    "hr_upscaler": "放大算法", "hr_scale": "放大倍数", "hr_steps": "高清步数（0 = 同上）", "hr_denoise": "重绘幅度",
    "denoise": "重绘幅度", "resize_mode": "缩放模式",
    "resize.0": "仅调整大小", "resize.1": "裁剪后缩放", "resize.2": "缩放后填充空白", "resize.3": "调整大小（潜空间放大）",
    "mask_blur": "蒙版边缘模糊", "inpainting_fill": "蒙版区域内容",
    "fill.0": "填充", "fill.1": "原图", "fill.2": "潜空间噪声", "fill.3": "潜空间数值零",
    "inpaint_area": "重绘区域", "area.0": "整张图片", "area.1": "仅蒙版区域",
    "model.loading": "正在加载 {name}…", "model.loaded": "加载用时 {s} 秒", "model.failed": "无法加载：{msg}",
    "vae.auto": "自动", "vae.none": "无",
    "models.unusable": "无法使用",
    "defaults.cpu": "这台电脑没有 GPU：Maple 先用 {w}×{h}、{steps} 步，在 CPU 上几秒就能完成（512×512、20 步可能要几分钟）。你改过的数值会被保留。",
    "defaults.demo": "演示模型只会画出噪点：Maple 先用较小的设置（{w}×{h}、{steps} 步），几秒就能出图。你改过的数值会被保留。",
    "defaults.builtin": "内置模型用它自己的尺寸 {w}×{h}、{steps} 步、CFG {cfg} 出图，大约一秒一张。你改过的数值会被保留。",
    "progress.step": "第 {a}/{b} 步", "progress.image": "第 {a}/{b} 张", "progress.eta": "约剩 {s} 秒",
    "progress.waiting": "等待引擎…", "interrupted": "已中止。",
    "copied": "已复制到剪贴板。", "loaded.params": "参数已载入。", "sent.img2img": "图片已发送到图生图。",
    "error.network": "无法连接引擎（{msg}）。", "error.http": "引擎返回 {status}。",
    "error.internal": "引擎执行时出错（{status}）。详情见控制台。",
  },
};

let lang = "en";

export function detectLanguage(saved) {
  if (saved && STRINGS[saved]) return saved;
  const langs = navigator.languages || [navigator.language || "en"];
  return langs.some((l) => l.toLowerCase().startsWith("zh")) ? "zh" : "en";
}

export const currentLang = () => lang;

/** Translate a key, filling {name} placeholders from vars. */
export function t(key, vars = {}) {
  const text = STRINGS[lang][key] ?? STRINGS.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, k) => (k in vars ? String(vars[k]) : `{${k}}`));
}

export function applyI18n(root = document) {
  for (const node of root.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
  for (const node of root.querySelectorAll("[data-i18n-title]")) {
    node.title = t(node.dataset.i18nTitle);
    node.setAttribute("aria-label", node.title);
  }
  for (const node of root.querySelectorAll("[data-i18n-placeholder]")) {
    node.placeholder = t(node.dataset.i18nPlaceholder);
  }
}

export function setLanguage(next) {
  lang = STRINGS[next] ? next : "en";
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  applyI18n();
  document.dispatchEvent(new CustomEvent("maple:lang", { detail: lang }));
}

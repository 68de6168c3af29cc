"""Why a model file cannot be used, in one plain sentence per kind of breakage, defined once.

The model store (``maple-models list``), the launcher's models page and the engine's page all show
a file that cannot be used with the sentence of its :class:`Problem`, in English or Chinese. The
detailed reason (with byte counts, header lengths, a library's own error text) stays in the
entry's ``reason`` and in the logs.

A file found broken by the store gets its problem from the reason the store's header reader wrote
(:func:`problem_of`, over Maple's own messages in ``modelfile`` and ``probing``); a checkpoint that
fails to load in the engine gets it from the load error (:func:`load_problem`).
"""

from __future__ import annotations

from enum import Enum


class Problem(str, Enum):
    EMPTY = "empty"
    TRUNCATED = "truncated"
    WEB_PAGE = "web-page"
    LFS_POINTER = "lfs-pointer"
    NOT_A_MODEL = "not-a-model"
    DAMAGED = "damaged"
    UNREADABLE = "unreadable"
    INCOMPLETE_FOLDER = "incomplete-folder"
    INCOMPLETE_MODEL = "incomplete-model"
    UNSUPPORTED = "unsupported"
    PICKLE_REFUSED = "pickle-refused"
    LOAD_FAILED = "load-failed"


SENTENCES: dict[Problem, dict[str, str]] = {
    Problem.EMPTY: {
        "en": "The file is empty: download it again.",
        "zh": "文件是空的：请重新下载。"},
    Problem.TRUNCATED: {
        "en": "The file is incomplete (the download stopped early): download it again.",
        "zh": "文件不完整（下载中途停止）：请重新下载。"},
    Problem.WEB_PAGE: {
        "en": "This is a web page saved under a model's name, not a model: download the file itself again.",
        "zh": "这是以模型名保存的网页，不是模型：请重新下载模型文件本身。"},
    Problem.LFS_POINTER: {
        "en": "This is a Git LFS pointer, not the model: download the real file.",
        "zh": "这是 Git LFS 指针文件，不是模型本身：请下载真正的模型文件。"},
    Problem.NOT_A_MODEL: {
        "en": "This is not a model file (its content is neither safetensors nor PyTorch data).",
        "zh": "这不是模型文件（内容既不是 safetensors 也不是 PyTorch 数据）。"},
    Problem.DAMAGED: {
        "en": "The file is damaged (its header cannot be read): download it again.",
        "zh": "文件已损坏（无法读取文件头）：请重新下载。"},
    Problem.UNREADABLE: {
        "en": "The file cannot be read (its permissions or the disk).",
        "zh": "无法读取该文件（文件权限或磁盘问题）。"},
    Problem.INCOMPLETE_FOLDER: {
        "en": "This diffusers folder is incomplete: copy or download the whole folder again.",
        "zh": "此 diffusers 文件夹不完整：请重新复制或下载整个文件夹。"},
    Problem.INCOMPLETE_MODEL: {
        "en": "This checkpoint lacks parts a Stable Diffusion model needs (it may be a part of one, or damaged).",
        "zh": "该模型缺少 Stable Diffusion 模型必需的部分（可能只是模型的一部分，或已损坏）。"},
    Problem.UNSUPPORTED: {
        "en": "Maple cannot load this kind of model (it loads SD1.x, SD2.x and SDXL).",
        "zh": "Maple 无法加载此类模型（支持 SD1.x、SD2.x 和 SDXL）。"},
    Problem.PICKLE_REFUSED: {
        "en": "This .ckpt/.pt file can run code when opened; Maple opens such files only when pickle files are allowed.",
        "zh": "此 .ckpt/.pt 文件打开时可能执行代码；只有允许 pickle 文件时 Maple 才会打开。"},
    Problem.LOAD_FAILED: {
        "en": "The engine could not load this file; its console has the details.",
        "zh": "引擎无法加载该文件；详情见控制台。"},
}

# What Maple's own reasons say (installer/store/modelfile.py, probing.py, diffusers_folders.py;
# engine/models/loader.py), first match wins. tests/installer/test_problems.py makes every kind of
# broken file and checks it lands on its own problem, so a reworded reason cannot slip to the default.
_REASON_MARKS: tuple[tuple[str, Problem], ...] = (
    ("git-lfs", Problem.LFS_POINTER),
    ("html page", Problem.WEB_PAGE),
    ("is empty or truncated (0 bytes)", Problem.EMPTY),
    ("empty or truncated", Problem.TRUNCATED),
    ("is truncated", Problem.TRUNCATED),
    ("cannot be read", Problem.UNREADABLE),
    ("damaged header", Problem.DAMAGED),
    ("unreadable diffusers config", Problem.INCOMPLETE_FOLDER),
    ("incomplete diffusers folder", Problem.INCOMPLETE_FOLDER),
    ("lacks weights", Problem.INCOMPLETE_MODEL),
    ("singlefilecomponenterror", Problem.INCOMPLETE_MODEL),  # diffusers: a part of the pipeline is not in the file
    ("does not load as", Problem.LOAD_FAILED),
    ("not a model", Problem.NOT_A_MODEL),
    ("not a safetensors file", Problem.NOT_A_MODEL),
    ("not a pytorch checkpoint", Problem.NOT_A_MODEL),
)


def problem_of(reason: str) -> Problem:
    """The kind of breakage a store or loader reason describes (``DAMAGED`` when none is recognised)."""
    text = reason.lower()
    return next((problem for mark, problem in _REASON_MARKS if mark in text), Problem.DAMAGED)


# The engine's load errors by their stable code (installer.errors / engine.models.errors).
_LOAD_CODES: dict[str, Problem] = {
    "model-unsupported": Problem.UNSUPPORTED,
    "pickle-refused": Problem.PICKLE_REFUSED,
}


def load_problem(code: str, message: str) -> Problem:
    """The problem behind a load error with ``code`` and ``message`` (a ``BrokenModelError`` by its reason)."""
    if code in _LOAD_CODES:
        return _LOAD_CODES[code]
    if code == "model-broken":
        return problem_of(message)
    return Problem.LOAD_FAILED


def sentence(problem: Problem | str, lang: str = "en") -> str:
    """The plain sentence for ``problem`` in ``lang`` (English for a language without one)."""
    texts = SENTENCES[Problem(problem)]
    return texts.get(lang, texts["en"])


def problem_in(text: str) -> Problem | None:
    """The problem whose English sentence ``text`` (a console line) contains, if any."""
    return next((problem for problem, texts in SENTENCES.items() if texts["en"] in text), None)


def all_sentences(problem: Problem | str) -> dict[str, str]:
    """Every language's sentence, for the engine's page (which switches language itself)."""
    return dict(SENTENCES[Problem(problem)])

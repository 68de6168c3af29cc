"""The runtime's textual-inversion embeddings and prompt styles, and how the API describes them.

Embeddings come from the model registry's folders and are matched to the loaded model
(``engine.models.embedding_library``); styles from the styles files of the home and the shared
folders (``engine.prompts.styles``). Listing is safe from HTTP threads; only the worker looks for
new files (``check_folders``) and reloads.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from engine.models.embedding_library import EmbeddingLibrary
from engine.prompts.embeddings import EMPTY, EmbeddingSet
from engine.prompts.styles import STYLES_FILE, StyleBook, style_files

if TYPE_CHECKING:
    from engine.cli import EngineConfig
    from engine.models.loaded import LoadedModel
    from engine.models.registry import ModelRegistry


class PromptLibrary:
    def __init__(self, config: EngineConfig, registry: ModelRegistry) -> None:
        self.embeddings = EmbeddingLibrary(registry)
        home = config.home.root
        self.styles = StyleBook(style_files(home, list(config.shared_folders)), home / STYLES_FILE)

    def embeddings_for(self, model: LoadedModel | None, check_folders: bool = False) -> EmbeddingSet:
        """The embeddings ``model`` can use (none before a model is loaded)."""
        if model is None or model.pipe is None:
            return EMPTY
        return self.embeddings.for_model(model.pipe, model.title, check_folders)

    def embeddings_listing(self, model: LoadedModel | None) -> dict[str, Any]:
        """A1111's ``GET /sdapi/v1/embeddings``: ``loaded`` and ``skipped``, by name."""
        found = self.embeddings_for(model)
        return {"loaded": {name: e.describe() for name, e in found.loaded.items()},
                "skipped": {name: e.describe() for name, e in found.skipped.items()}}

    def reload_embeddings(self, model: LoadedModel | None) -> None:
        """In the worker: read every embedding file again and match them to ``model``."""
        self.embeddings.reload()
        self.embeddings_for(model)

    def styles_listing(self) -> list[dict[str, str]]:
        """A1111's ``GET /sdapi/v1/prompt-styles``."""
        return [style.to_api() for style in self.styles.styles()]

"""Loading models: checkpoints, VAEs, LoRAs, the demo model and the listing of what exists.

The pieces other engine modules use (import the submodule; nothing heavy happens at import):

- ``registry.ModelRegistry(home, shared_folders)``: ``checkpoints()``, ``vaes()``, ``loras()``
  (``ModelInfo``: name, title ``name [hash10]``, path, arch, sha256, lora_hash, is_demo, label),
  ``find(kind, name, field=None)`` by title/name/stem/hash (``ModelNotFoundError`` lists what
  exists, ``UnsafeNameError`` for names leaving the folders: ``check_name``), ``with_hash(info)``,
  ``refresh()``.
- ``loader.load_checkpoint(path, device=, dtype=, allow_pickle=, vram_mode=, sha256=, name=)`` ->
  ``LoadedModel``; ``switch_model(current, path, **same)`` keeps ``current`` if the new one fails;
  ``unload(model)`` frees the weights now.
- ``demo.ensure_demo_model(home)`` -> the demo checkpoint's path (``home_has_checkpoint(home)``).
- ``vae.apply_vae(model, path | "Automatic")``, ``vae.decode_latents_safely(model, latents)``.
- ``lora.apply_loras(model, [LoraRef | (path, weight)])``: exactly these LoRAs, [] removes all.
- ``configs.config_dir(arch)``, ``configs.load_tokenizer(folder, "tokenizer")``.
- ``device``: ``DeviceChoice``/``choose`` (``--device/--precision/--vram-mode``, ``auto`` resolved),
  ``resolve_device``, ``resolve_dtype``, ``free_memory``; ``placement.place(pipe, device, mode)``.
- Errors: ``errors.ModelLoadError`` and subclasses, each with ``code``, ``hint`` and ``status``;
  installer's ``BrokenModelError`` and ``ModelNotFoundError`` for files.
"""

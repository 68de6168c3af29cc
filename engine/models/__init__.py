"""Loading models: checkpoints, VAEs, LoRAs, the demo model and the listing of what exists."""

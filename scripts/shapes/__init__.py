"""The built-in shapes model's world: its words, its pictures, and its training (``scripts/train_demo_model.py``)."""

"""A1111's prompt language: parsing, scheduling, and turning prompts into text-encoder embeddings."""

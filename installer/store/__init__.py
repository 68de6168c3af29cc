"""The model store: the data home's and shared folders' model files, their headers, hashes and the catalog."""

"""The model catalog: what each API (apis.py) and each model (models.yaml, read by models.py) accepts and
does by default, and default prices (prices.py)."""

"""The model catalog: what each API and each model accepts."""

"""What each model accepts and does by default (models.yaml, read by models.py), and its default prices."""

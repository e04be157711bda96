"""The participant: local data, models, training, update packaging and submission."""

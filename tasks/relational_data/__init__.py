"""Relational Data: questions over users, locations and foods, answered through query tools."""

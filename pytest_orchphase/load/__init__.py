"""The user's files, read safely into validated models that remember their YAML lines."""

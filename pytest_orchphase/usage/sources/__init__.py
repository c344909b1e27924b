"""Sources of measured usage: each one folder, all behind one protocol."""

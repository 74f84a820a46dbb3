"""The staff review page (Flask)."""

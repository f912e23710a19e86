"""The storyboard language: YAML source with positions → validated pydantic models."""

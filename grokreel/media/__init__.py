"""Media primitives: probe, frame grab, the animatic renderer. Imported lazily (PyAV is heavy)."""

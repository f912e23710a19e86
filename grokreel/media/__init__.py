"""Media primitives: probing, frame grabs and the animatic renderer. Imported lazily (PyAV is heavy)."""

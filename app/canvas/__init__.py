"""The canvases: cell graph scene, block stack scene, items and gestures."""

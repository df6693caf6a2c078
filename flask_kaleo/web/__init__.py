"""The HTTP layer: the blueprint, its views, forms, pages and template helpers."""

"""Agent assist: the order fills itself from the citizen's words (智能填单)."""

"""Agent assist: category, unit and knowledge-base suggestions for the text of a call or a typed case."""

"""The 12345 interactive voice response: menus as data, an engine over a small call port, prompts, surveys."""

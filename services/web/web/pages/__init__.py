"""One module per screen: its routes render the screen's template, or the partial htmx asked for."""

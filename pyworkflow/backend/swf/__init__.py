"""Amazon SWF, mapped onto the Backend contract: one module per concern."""

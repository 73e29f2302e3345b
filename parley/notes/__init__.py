"""Internal notes on contacts: safe markdown, pins, @mentions."""

"""One search box across contacts, messages, notes and deals; saved searches."""

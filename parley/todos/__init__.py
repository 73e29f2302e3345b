"""Tasks (to-dos) on contacts and deals: assignee, due time, my tasks, due reminders."""

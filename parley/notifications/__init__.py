"""In-app notifications for one person in one workspace (mentions, tasks due...)."""

"""In-app notifications and their emails (which never carry clinical content)."""

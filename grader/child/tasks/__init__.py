"""What one kind of task alone needs in the child (see ``program.py``'s builtins)."""

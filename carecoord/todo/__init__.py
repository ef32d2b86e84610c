"""Things to do: what is waiting for each person, worked out from the records."""

"""Template tags of the reporting package. It is not a Django app, so settings registers
the library by its dotted path (TEMPLATES OPTIONS "libraries")."""

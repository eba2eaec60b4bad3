"""Built-in provider plugins, registered through the ``streamdesk`` entry points."""

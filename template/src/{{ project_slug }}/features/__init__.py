"""The features of this project beyond the core, each one a module that plugs its parts in.

`features/enabled.py` lists the plug-ins create_app runs and `features/settings.py` the settings
they add; an upgrade to another phase edits those two lists and adds the features' own files.
"""

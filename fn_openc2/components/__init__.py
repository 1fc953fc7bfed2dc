"""SOAR function components: one thin module per function (funct_<name>.py)."""

"""Translation catalogs (gettext) and the script that keeps them current: ``python -m locales.build``."""

"""`python -m spotify_charts.settings` prints the README's Configuration table."""

from spotify_charts.settings import markdown_table

print(markdown_table())

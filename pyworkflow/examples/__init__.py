"""Small workflows that show pyworkflow at work; the README's quickstart is one of them."""

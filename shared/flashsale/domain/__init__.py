"""The domain: orders, products and their rules. Imports nothing from AWS, Flask or marshmallow."""

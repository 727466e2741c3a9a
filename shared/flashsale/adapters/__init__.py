"""Adapters: real (DynamoDB, SNS) and in-memory implementations of flashsale.ports."""

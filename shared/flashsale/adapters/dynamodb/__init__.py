"""DynamoDB adapters: orders (with stock reservation), products, idempotency records, the
payment ledger, and the table definitions."""

from flashsale.adapters.dynamodb.idempotency import DynamoDbIdempotencyStore
from flashsale.adapters.dynamodb.ledger import DynamoDbPaymentLedger
from flashsale.adapters.dynamodb.orders import DynamoDbOrderStore
from flashsale.adapters.dynamodb.products import DynamoDbProductStore
from flashsale.adapters.dynamodb.tables import create_tables, table_definitions

__all__ = [
    "DynamoDbIdempotencyStore",
    "DynamoDbOrderStore",
    "DynamoDbPaymentLedger",
    "DynamoDbProductStore",
    "create_tables",
    "table_definitions",
]

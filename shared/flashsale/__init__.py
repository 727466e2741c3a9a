"""What the API, the processor and the payment Lambda share: the order domain, schemas, the
OrderPlaced event, settings, the stores, the simulated payment gateway and the payment flow."""

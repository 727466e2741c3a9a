"""Test support for the flashsale services: in-memory fakes of every port (`memory`) and a
recorder that keeps what the X-Ray SDK would send (`tracing`), the order topic's route queues
(`messaging`).

Installed in the development environment only; the Lambda zip and the images do not ship it.
"""

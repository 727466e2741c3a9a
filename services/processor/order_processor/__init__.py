"""The ECS order processor: long-polls the order queue, pays each order, records the outcome."""

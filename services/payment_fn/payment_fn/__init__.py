"""The payment Lambda: pays orders from SQS batches or SNS events, instrumented with Powertools."""

import time

#: When the package started importing: the handler module reports its init time against it.
INIT_STARTED = time.perf_counter()

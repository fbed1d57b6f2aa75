"""Usage per dealership and month: the texts notifier sent (and their segments) and the ones
that were not delivered, for the operator's `/platform/v1/usage`."""

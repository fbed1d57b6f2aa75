"""routing: the system of record for dealerships, staff, customers and conversations."""

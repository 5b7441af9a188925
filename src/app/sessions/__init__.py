"""Server-side sessions in Redis: the Quart session interface and its Redis client."""

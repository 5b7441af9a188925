"""The client side of Logto: SDK client, flows, token verification, keys, tokens."""

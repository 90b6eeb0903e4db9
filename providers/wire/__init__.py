"""Wire formats: conversions between the neutral types and each provider's JSON.

Shared by the adapters (neutral → request, reply → neutral) and the simulator (request → neutral,
neutral → reply), so both sides of the wire agree by construction.
"""

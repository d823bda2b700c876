"""The shop's REST API: thin entrypoints that parse, call one service or selector, answer.

One class per operation, each with its own nested serializers. Placing and cancelling
answer 202 Accepted: they only record a command in the outbox, and the order's resource
(GET /api/orders/{id}/) shows what the shop made of it, conversation included.

A client signs in with the storefront's session or with a token: POST /api/auth/token/
with a username and password answers `{"token": ...}`, then send
`Authorization: Token <token>`. (`manage.py drf_create_token <username>` makes one too.)
"""

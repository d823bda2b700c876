"""The event API's pages: the AsyncAPI document (messaging.asyncapi) as JSON and YAML, and
read for people at /api/events/."""

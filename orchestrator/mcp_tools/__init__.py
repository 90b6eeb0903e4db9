"""MCP tool servers as task environments, through the official ``mcp`` SDK.

``spec.McpServer`` says how to reach a server (stdio command or streamable-HTTP URL) and where its
dataset is; ``task`` turns it into a task (``tasks.plugins``); ``session.McpSession`` is one
episode's connection. The client lives here, not in ``tasks``, which needs nothing beyond the
standard library.
"""

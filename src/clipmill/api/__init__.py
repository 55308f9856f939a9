"""HTTP face of clipmill: REST (OpenAPI), WebSocket and SSE progress, signed file links."""

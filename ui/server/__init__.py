"""The HTTP door the chat and the API share: Host check and login, security headers, the port."""

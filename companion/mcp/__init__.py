"""The driver's own tools over the Model Context Protocol (MCP): `servers` reads the
`[mcp.servers.NAME]` tables of config.toml, `hub` keeps the connections and offers their tools
to the persona's model, `skill` carries out a call the model makes (asking the driver first
when the tool changes something), and `listing` is `companion tools list`. The other way
round, `server` is `companion serve mcp`: the demo car's skills as tools for another agent."""

"""Built-in flavors, one module per framework; each imports its framework only when used."""

"""HTTP entrypoints: each translates a request into a service-layer call and back."""

"""One module per CloudFormation stack; each exposes `build() -> troposphere.Template`."""

"""CloudFormation for the flash-sale pipeline, generated with troposphere.

One module per stack under `flashsale_stacks.stacks`; `registry` lists them in deploy order;
`python -m flashsale_stacks` renders, validates and deploys them.
"""

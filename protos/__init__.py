"""The .proto files and the Python code generated from them (`python -m protos`)."""

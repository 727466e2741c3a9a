def main() -> None:  # replaced by the processor entrypoint
    raise SystemExit("not built yet")

from kg.cli import main

if __name__ == "__main__":  # also imported, not run, by the worker processes that write Turtle and JSON-LD
    main()

"""`python -m app`: the development server for one user, on 127.0.0.1:5000 by default."""

import argparse

from app import create_app


def port_number(text: str) -> int:
    """A TCP port, or a clear message (argparse then exits with code 2)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (use 1 to 65535)") from None
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{value} is not a port: use 1 to 65535")
    return value


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m app", description="Run Backprop Lens.")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to bind (default 127.0.0.1; 0.0.0.0 exposes it to the network)")
    parser.add_argument("--port", type=port_number, default=5000, help="port, 1 to 65535 (default 5000)")
    parser.add_argument("--debug", action="store_true", help="Flask debug mode (never in production)")
    args = parser.parse_args()
    create_app().run(host=args.host, port=args.port, debug=args.debug, threaded=True,
                     use_reloader=False)


if __name__ == "__main__":
    main()

"""`python -m app`: the development server for one user, on 127.0.0.1:5000 by default."""

import argparse

from app import create_app


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m app", description="Run Backprop Lens.")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to bind (default 127.0.0.1; 0.0.0.0 exposes it to the network)")
    parser.add_argument("--port", type=int, default=5000, help="port (default 5000)")
    parser.add_argument("--debug", action="store_true", help="Flask debug mode (never in production)")
    args = parser.parse_args()
    create_app().run(host=args.host, port=args.port, debug=args.debug, threaded=True,
                     use_reloader=False)


if __name__ == "__main__":
    main()

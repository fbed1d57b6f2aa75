"""A development SMTP server that keeps every message it receives as a .eml file:
`python -m devtools.smtp_sink --port 1025 --dir .state/mail`."""

import argparse
import asyncio
import time
from pathlib import Path

from aiosmtpd.controller import Controller


class MaildirHandler:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)

    async def handle_DATA(self, _server, _session, envelope) -> str:
        name = f"{time.time_ns()}.eml"
        (self.directory / name).write_bytes(envelope.original_content or envelope.content)
        print(f"mail for {', '.join(envelope.rcpt_tos)} saved as {self.directory / name}", flush=True)
        return "250 Message accepted"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=1025)
    parser.add_argument("--dir", default=".state/mail")
    args = parser.parse_args()
    controller = Controller(MaildirHandler(Path(args.dir)), hostname="127.0.0.1", port=args.port)
    controller.start()
    print(f"SMTP sink on 127.0.0.1:{args.port}, mail kept in {args.dir}", flush=True)
    try:
        asyncio.run(asyncio.Event().wait())
    except KeyboardInterrupt:
        pass
    finally:
        controller.stop()


if __name__ == "__main__":
    main()

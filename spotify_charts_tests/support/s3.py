"""A real S3 API for tests: moto's server on 127.0.0.1 (a free port), reached over HTTP by boto3
exactly as S3 would be, through `AWS_ENDPOINT_URL_S3`.

Run one by hand: `python -m spotify_charts_tests.support.s3 [PORT]`; it prints the settings to export.
"""

from __future__ import annotations

import signal
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

from moto.server import ThreadedMotoServer

# moto accepts any credentials; these are placeholders, not secrets.
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "moto-access-key",
    "AWS_SECRET_ACCESS_KEY": "moto-secret-key-never-logged",
    "AWS_DEFAULT_REGION": "eu-west-1",
}


@contextmanager
def moto_s3(port: int = 0) -> Iterator[str]:
    """Start the server; yield its endpoint URL; stop it."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    host, bound = server.get_host_and_port()
    try:
        yield f"http://{host}:{bound}"
    finally:
        server.stop()


def main(argv: list[str]) -> int:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # `kill` stops it as Ctrl-C does
    port = int(argv[1]) if len(argv) > 1 else 5000
    with moto_s3(port) as endpoint:
        for name, value in {**CREDENTIALS, "AWS_ENDPOINT_URL_S3": endpoint}.items():
            print(f"export {name}={value}")
        print(
            "# create a bucket: python -c \"import boto3; boto3.client('s3').create_bucket(Bucket='charts', "
            "CreateBucketConfiguration={'LocationConstraint': 'eu-west-1'})\"",
            flush=True,
        )
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

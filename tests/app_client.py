"""A gradio_client connection to the app under test, closed when the test is done with it."""

from contextlib import contextmanager

from gradio_client import Client


@contextmanager
def connected(url, **options):
    client = Client(url, verbose=False, **options)
    try:
        yield client
    finally:
        client.close()

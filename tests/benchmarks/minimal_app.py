"""The least a Gradio app can do for one text-to-image run: bench_app.py's baseline.

One public endpoint, `/text_to_image(prompt)`, with no concurrency limit (vendor latency, not Gradio,
bounds it): POST the prompt to DashScope's direct endpoint with one shared `httpx.AsyncClient`, GET
the image it answers, write it durably (temp file, fsync, rename) and return it as an image.

    DASHSCOPE_API_KEY=k DASHSCOPE_BASE_URL=http://127.0.0.1:PORT/api/v1 WAN26_OUTPUT_DIR=/tmp/out \\
    GRADIO_SERVER_PORT=7861 python tests/benchmarks/minimal_app.py
"""

from __future__ import annotations

import asyncio
import os
import random
import tempfile
import uuid
from pathlib import Path

import gradio as gr
import httpx

BASE_URL = os.environ["DASHSCOPE_BASE_URL"].rstrip("/")
OUTPUT_DIR = Path(os.environ["WAN26_OUTPUT_DIR"])
CLIENT = httpx.AsyncClient(
    headers={"Authorization": f"Bearer {os.environ['DASHSCOPE_API_KEY']}"},
    timeout=httpx.Timeout(10.0, read=300.0),
    limits=httpx.Limits(max_connections=None, max_keepalive_connections=64),
)


def write_durably(path: Path, data: bytes) -> Path:
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".partial-")
    with os.fdopen(handle, "wb") as file:
        file.write(data)
        file.flush()
        os.fsync(file.fileno())
    os.replace(temporary, path)
    return path


async def text_to_image(prompt: str) -> str:
    """POST, GET the image, save it; the saved file's path."""
    body = {
        "model": "wan2.6-t2i",
        "input": {"messages": [{"role": "user", "content": [{"text": prompt}]}]},
        "parameters": {"watermark": False, "seed": random.randrange(2**31), "n": 1, "prompt_extend": True},
    }
    answer = await CLIENT.post(f"{BASE_URL}/services/aigc/multimodal-generation/generation", json=body)
    answer.raise_for_status()
    image = await CLIENT.get(answer.json()["output"]["choices"][0]["message"]["content"][0]["image"])
    image.raise_for_status()
    return str(await asyncio.to_thread(write_durably, OUTPUT_DIR / f"{uuid.uuid4().hex}.png", image.content))


with gr.Blocks() as demo:
    prompt = gr.Textbox(label="Prompt")
    result = gr.Image(label="Image", type="filepath")
    run = gr.Button("Generate")
    run.click(text_to_image, prompt, result, api_name="text_to_image", concurrency_limit=None)

demo.queue(default_concurrency_limit=None)

if __name__ == "__main__":
    OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
    demo.launch()

"""The four public endpoints. Events from wan26 become progress, streamed updates and a result;
every image's vendor link is on the page until its file is saved."""

# No `from __future__ import annotations` here: Gradio reads these endpoints' signatures for its
# API page and MCP tools, and finds gr.Request / gr.Progress parameters by their annotations.
# It reads their docstrings line by line: each `Args:` entry and each `Returns:` item is one line,
# or the MCP tool's description loses the rest.

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import gradio as gr

from wan26 import (
    AsyncClient,
    AuthenticationError,
    ConfigError,
    Finished,
    Flow,
    GenerationResult,
    ImageOffered,
    ImageRequest,
    ImageSaved,
    Mode,
    Phase,
    Progress,
    ProviderError,
    SavedImage,
    TextDelta,
    Wan26Error,
)
from wan26.pricing import estimate
from wan26.providers import Adapter
from wan26.ui.errors import adapter_named, checked, ui_error, unexpected_error
from wan26.ui.gallery import gallery_items, named
from wan26.ui.i18n import Lang, lang_of, state, t, translate
from wan26.ui.inputs import (
    RANDOM_SEED,
    edit_request,
    image_set_request,
    interleave_request,
    t2i_request,
    thinking_where_offered,
)
from wan26.ui.keys import own_key
from wan26.ui.owned import MadeRuns
from wan26.ui.quiet import Quiet, with_quiet
from wan26.ui.settings import Settings
from wan26.ui.spending import Spend, spent, spent_before
from wan26.ui.stopped import Stopped, StoppedRuns
from wan26.ui.texts import estimate_text, run_details, saving
from wan26.ui.vendors import SessionKeys

Update = tuple[Any, str, Any]  # (gallery or chat, run details, seed used)


def worth_showing(event: Progress, request: ImageRequest) -> bool:
    """Progress that stays on screen long enough to be read. Each update costs the server a message:
    checking the request, sending it and "done" are each followed at once by the next step."""
    if event.phase is Phase.PREPARING:
        return bool(request.images)  # preparing references can take a moment
    return event.phase not in (Phase.SUBMITTING, Phase.DONE)


def progress_text(event: Progress, lang: Lang = Lang.EN) -> str:
    """The vendor's task status in words, unless the message already says it."""
    status = (event.task_status or "").lower()
    message = translate(event.message, lang)
    if not status or status in event.message.lower():
        return message
    return t("vendor_says", lang, message=message, status=state(status, lang))


def for_visitor(
    error: Wan26Error, adapter: Adapter, own_key: bool, output_dir: Path, lang: Lang = Lang.EN
) -> Wan26Error:
    """The error as a web visitor should read it: no server folder, and key advice they can follow
    (ours, so written in the visitor's language)."""
    if isinstance(error, AuthenticationError):
        error.hint = t("auth_own_key" if own_key else "auth_server_key", lang, vendor=adapter.facts.title)
    folder, ours = str(output_dir), t("server_output_folder", Lang.EN)  # translated with the rest of the text
    if isinstance(error, ProviderError) and error.hint:
        error.hint = error.hint.replace(folder, ours)
    elif isinstance(error, ConfigError) and folder in str(error):
        return ConfigError(str(error).replace(folder, ours))
    return error


class Pending:
    """What a run has made so far, shown while it goes: if it is stopped, the page still holds every
    image's link (the vendor keeps it about 24 hours) and the task id."""

    def __init__(self, request: ImageRequest, expected: int | None = None, lang: Lang = Lang.EN) -> None:
        self.request, self.lang = request, lang
        self.expected = expected  # the images asked for; None: not known (interleave)
        self.saved: dict[int, SavedImage] = {}
        self.unsaved: dict[int, str] = {}
        self.task: str | None = None
        self.step: Progress | None = None  # the run's current step, in words on the page
        self.unseen = False  # changed since the page was last updated
        self._shown: dict[int, str] = {}

    def add(self, event: Any) -> bool:
        """Take `event` in; True when it should be shown at once (an image saved). A link or a task
        id waits for a quiet moment (`unseen`): the image itself usually follows at once."""
        if isinstance(event, ImageOffered):
            self.unsaved[event.index] = event.url
        elif isinstance(event, ImageSaved):
            self.unsaved.pop(event.image.index, None)
            self.saved[event.image.index] = event.image
        elif isinstance(event, Progress) and worth_showing(event, self.request):
            self.task, self.step = event.task_id or self.task, event
        else:
            return False
        self.unseen = True
        return isinstance(event, ImageSaved) and not self.finishing

    def update(self) -> Update:
        """What the page shows now (plain values, never gr.skip(): Gradio answers a skip by
        rebuilding the component)."""
        return self.gallery(), self.details(), None

    def details(self) -> str:
        self.unseen = False
        return self.markdown()

    @property
    def finishing(self) -> bool:
        """Every image asked for is saved: the finished run's own update comes next, so an update
        now would only cost the server work."""
        return self.expected is not None and not self.unsaved and len(self.saved) >= self.expected

    def gallery(self) -> list[tuple[str, str]]:
        for index, image in self.saved.items():
            if index not in self._shown:
                self._shown[index] = named(image, self.request.mode, self.request.prompt)
        return [(self._shown[index], t("image_n", self.lang, index=index)) for index in sorted(self.saved)]

    def markdown(self) -> str:
        # After Stop the page keeps this text: `stopped_note` puts its own line in place of the first.
        # The step in words, not as a bar: how far a vendor has got is not known, and a percentage
        # would pretend it is. Gradio's spinner and clock on the results say that it runs.
        step = f"⏳ {progress_text(self.step, self.lang)}" if self.step else t("pending_running", self.lang)
        lines = [step]
        if self.task:
            lines.append(t("pending_task", self.lang, task=self.task))
        lines += [t("pending_unsaved", self.lang, index=index, url=url) for index, url in sorted(self.unsaved.items())]
        return "  \n".join(lines)


class Story:
    """The interleaved answer as a chat: the user's turn, then one growing assistant message."""

    def __init__(self, prompt: str, image: str | None, lang: Lang = Lang.EN) -> None:
        self.prompt, self.lang = prompt, lang
        self.user: list[Any] = [prompt] + ([{"path": image}] if image else [])
        self.parts: list[Any] = []  # text, saved images, and the image numbers still being saved

    def add(self, event: TextDelta | ImageOffered | ImageSaved) -> None:
        """Images keep their place among the text: text after an image does not wait for its file."""
        if isinstance(event, ImageOffered):
            self.parts.append(event.index)
        elif isinstance(event, ImageSaved):
            path = named(event.image, Mode.INTERLEAVE, self.prompt)
            saved = {"path": path, "alt_text": t("image_n", self.lang, index=event.image.index)}
            self.parts = [saved if part == event.image.index else part for part in self.parts]
        elif self.parts and isinstance(self.parts[-1], str):
            self.parts[-1] += event.text
        else:
            self.parts.append(event.text)

    def messages(self) -> list[dict[str, Any]]:
        answer = [saving(part, self.lang) if isinstance(part, int) else part for part in self.parts]
        return [{"role": "user", "content": self.user}, {"role": "assistant", "content": answer or ["…"]}]


class Runs:
    """The endpoints `text_to_image`, `edit`, `image_set` and `interleave`, with the app's settings."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.made = MadeRuns()  # each session's run folders, for its History (own mode)
        self.stopped = StoppedRuns(self.made)

    async def text_to_image(
        self,
        prompt: str,
        negative_prompt: str = "",
        width: float = 1280,
        height: float = 1280,
        n: float = 1,
        seed: float = RANDOM_SEED,
        prompt_extend: bool = True,
        watermark: bool = False,
        provider: str = "",
        model: str = "wan2.6",
        thinking: bool = True,
        palette: str = "",
        tier: str = "",
        session_keys: SessionKeys | None = None,
        use_task: bool = False,
        http: gr.Request | None = None,
    ) -> AsyncIterator[Update]:
        """Generate 1 to 4 images from a text prompt with Wan 2.6 (or 2.7), through the vendor you choose.

        Args:
            prompt: What to draw, up to 2000 characters (2100 with some vendors).
            negative_prompt: What to avoid, up to 500 characters.
            width: Width in pixels; DashScope: 1280×1280 to 1440×1440 in all, ratio 1:4 to 4:1, multiples of 16.
            height: Height in pixels, within the same vendor's limits.
            n: Images per run, 1 to 4 (each is billed).
            seed: 0 to 2147483647 to repeat a result, or -1 for random (Runware and ShortAPI take -1 only).
            prompt_extend: Let the provider rewrite the prompt for detail.
            watermark: Add the provider's "AI generated" mark (where the vendor offers it).
            provider: The vendor: dashscope, aimlapi, runware, shortapi or vtrix (default: the server's).
            model: wan2.6 (default), wan2.7 or wan2.7-pro; 2.7 takes no negative prompt and no prompt rewriting.
            thinking: Wan 2.7 only: think longer for a better image (ignored with wan2.6).
            palette: Wan 2.7 only: 3 to 10 colours with shares summing to 100, as "#C2D1E6:60, #3B5B8C:40".
            tier: Wan 2.7 only: 1K or 2K (wan2.7-pro also 4K) instead of width and height; empty to send those.

        Returns:
            the saved images with their links, each captioned with its seed and size
            a Markdown summary of the run with its cost
            the seed used
        """
        values = (prompt, negative_prompt, width, height, n, seed, prompt_extend, watermark, model, thinking)
        request = checked(t2i_request, *values, palette, tier, lang=lang_of(http))
        async for update in self._gallery_run(request, provider, session_keys, http, use_task):
            yield update

    async def edit(
        self,
        prompt: str,
        images: list[Any],
        negative_prompt: str = "",
        size: str = "1K",
        n: float = 1,
        seed: float = RANDOM_SEED,
        prompt_extend: bool = True,
        watermark: bool = False,
        provider: str = "",
        image_urls: str = "",
        model: str = "wan2.6",
        palette: str = "",
        boxes: str = "",
        session_keys: SessionKeys | None = None,
        use_task: bool = False,
        http: gr.Request | None = None,
    ) -> AsyncIterator[Update]:
        """Edit or combine 1 to 4 reference images with Wan 2.6 (AI/ML API takes 1 to 3), or 1 to 9 with Wan 2.7.

        Args:
            prompt: The edit, up to 2000 characters; call the references "image 1", "image 2", … in their order.
            images: Uploaded references, in order (JPEG, PNG, BMP or WEBP, at least 240 px a side).
            negative_prompt: What to avoid, up to 500 characters.
            size: "1K" or "2K" (DashScope, Vtrix: shaped like the last reference), or "WxH" such as "1280x720".
            n: Images per run, 1 to 4 (each is billed).
            seed: 0 to 2147483647 to repeat a result, or -1 for random (Runware and ShortAPI take -1 only).
            prompt_extend: Let the provider rewrite the prompt for detail.
            watermark: Add the provider's "AI generated" mark (where the vendor offers it).
            provider: The vendor: dashscope, aimlapi, runware, shortapi or vtrix (default: the server's).
            image_urls: References as http(s) links, one per line, after `images` (MCP and ShortAPI: links only).
            model: wan2.6 (default), wan2.7 or wan2.7-pro; 2.7 takes no negative prompt and no prompt rewriting.
            palette: Wan 2.7 only: 3 to 10 colours with shares summing to 100, as "#C2D1E6:60, #3B5B8C:40".
            boxes: Wan 2.7: areas to edit, a line each, IMAGE:x1,y1,x2,y2 in upright pixels (2:989,515,1138,681).

        Returns:
            the saved images with their links, each captioned with its seed and size
            a Markdown summary of the run with its cost
            the seed used
        """
        values = (prompt, images, negative_prompt, size, n, seed, prompt_extend, watermark, image_urls, model)
        request = checked(edit_request, *values, palette, boxes, lang=lang_of(http))
        async for update in self._gallery_run(request, provider, session_keys, http, use_task):
            yield update

    async def image_set(
        self,
        prompt: str,
        images: list[Any] | None = None,
        size: str = "2K",
        n: float = 4,
        seed: float = RANDOM_SEED,
        watermark: bool = False,
        provider: str = "",
        image_urls: str = "",
        model: str = "wan2.7",
        session_keys: SessionKeys | None = None,
        use_task: bool = False,
        http: gr.Request | None = None,
    ) -> AsyncIterator[Update]:
        """Make a set of up to 12 images that belong together with Wan 2.7 (DashScope and Runware).

        Args:
            prompt: The set to make, up to 5000 characters (Runware: 3000), e.g. "four seasons of one garden".
            images: Optional references, 0 to 9, in order (JPEG, PNG, BMP or WEBP).
            size: "1K" or "2K" (shaped like the last reference, square without one), or "WxH" such as "1696x960".
            n: At most this many images, 1 to 12 (the model decides how many; each one made is billed).
            seed: 0 to 2147483647 to repeat a result, or -1 for random.
            watermark: Add the provider's "AI generated" mark.
            provider: The vendor: dashscope or runware (default: the server's).
            image_urls: References as http(s) links, one per line, after `images`.
            model: wan2.7 (default) or wan2.7-pro.

        Returns:
            the saved images in the set's order, each captioned with its number, seed and size
            a Markdown summary of the run: how many images the model made of how many asked, and the cost
            the seed used
        """
        values = (prompt, images, size, n, seed, watermark, image_urls, model)
        request = checked(image_set_request, *values, lang=lang_of(http))
        async for update in self._gallery_run(request, provider, session_keys, http, use_task):
            yield update

    async def interleave(
        self,
        prompt: str,
        image: str | None = None,
        negative_prompt: str = "",
        width: float = 0,
        height: float = 0,
        max_images: float = 3,
        seed: float = RANDOM_SEED,
        watermark: bool = False,
        provider: str = "",
        session_keys: SessionKeys | None = None,
        use_task: bool = False,
        http: gr.Request | None = None,
    ) -> AsyncIterator[Update]:
        """Write text with images placed within it (Wan 2.6 interleaved mode: DashScope and Vtrix).

        Args:
            prompt: What to write and illustrate, up to 2000 characters (e.g. "a 3-step recipe for …").
            image: An optional input image (over MCP: an http(s) link or a data: URI).
            negative_prompt: What to avoid, up to 500 characters.
            width: Width, a multiple of 16 (768×768 to 1280×1280 in all), or 0 to follow the input image.
            height: Height, a multiple of 16, or 0 to follow the input image.
            max_images: At most this many images, 1 to 5 (the model may make fewer; each is billed).
            seed: 0 to 2147483647 to repeat a result, or -1 for random.
            watermark: Add the provider's "AI generated" mark.
            provider: The vendor: dashscope or vtrix (default: the server's).

        Returns:
            the conversation: the prompt, then the answer's text and saved images in order
            a Markdown summary of the run with its cost
            the seed used
        """
        values = (prompt, image, negative_prompt, width, height, max_images, seed, watermark)
        lang = lang_of(http)
        request = checked(interleave_request, *values, lang=lang)
        story, pending = Story(prompt, image, lang), Pending(request, lang=lang)
        yield story.messages(), t("generating", lang), None
        async for event in with_quiet(self._events(request, provider, session_keys, http, use_task)):
            if isinstance(event, Finished):
                yield story.messages(), *self._outputs(event.result, request, provider, lang)[1:]
            elif isinstance(event, Quiet):
                if pending.unseen:
                    yield story.messages(), pending.details(), None
            elif pending.add(event) or isinstance(event, TextDelta | ImageOffered | ImageSaved):
                if isinstance(event, TextDelta | ImageOffered | ImageSaved):  # text streams as it comes
                    story.add(event)
                yield story.messages(), pending.details(), None

    async def _gallery_run(
        self,
        request: ImageRequest,
        provider: str,
        keys: SessionKeys | None,
        http: gr.Request | None,
        use_task: bool,
    ) -> AsyncIterator[Update]:
        """Yield (gallery, details, seed) updates as images arrive, then the finished run's."""
        lang = lang_of(http)
        pending = Pending(request, request.n, lang)
        async for event in with_quiet(self._events(request, provider, keys, http, use_task)):
            if isinstance(event, Finished):
                yield self._outputs(event.result, request, provider, lang)
                return
            if isinstance(event, Quiet):
                if pending.unseen and not pending.finishing:
                    yield pending.update()
            elif pending.add(event):
                yield pending.update()
        raise gr.Error(t("run_ended", lang), title=t("title_unexpected_response", lang))

    def _outputs(self, result: GenerationResult, request: ImageRequest, provider: str, lang: Lang) -> Update:
        expected = estimate(adapter_named(self.settings.vendors, provider, lang).facts.price_of(request.model), request)
        details = run_details(result, estimate_text(expected, lang), lang)
        if request.mode is Mode.IMAGE_SET:  # the model decides how many: say how many it chose
            details = t("set_made", lang, made=len(result.images), asked=request.n) + "  \n" + details
        return gallery_items(result, request.prompt, lang), details, result.seed

    async def _events(
        self, request: ImageRequest, provider: str, keys: SessionKeys | None, http: gr.Request | None, use_task: bool
    ) -> AsyncIterator[Any]:
        flow = Flow.TASK if use_task else None  # None: the vendor's own default flow
        lang = lang_of(http)
        adapter = adapter_named(self.settings.vendors, provider, lang)
        request = thinking_where_offered(request, adapter.facts.mode_limits(request))
        visitor_key = own_key(adapter.facts.name, keys, http)
        spend, task_id, ended = Spend(self.settings.guard), None, False
        client: AsyncClient | None = None  # it names the run's folder, where a stopped run leaves its record
        made = self.made.start(http.session_hash if http is not None else None)
        try:
            name = adapter.facts.name
            async with self.settings.client(name, visitor_key) as client:
                if not visitor_key:  # only the owner's key is guarded
                    spend.admit(adapter, request, http, self.settings.proxy_hops)
                async for event in client.events(request, flow=flow):
                    if isinstance(event, Progress):
                        spend.sent |= event.phase not in (Phase.PREPARING, Phase.QUEUED)
                        task_id = event.task_id or task_id
                    elif isinstance(event, Finished):
                        ended = True
                        spend.settle(spent(adapter, event.result))
                        made.done(event.result.run_dir)  # before the page's follow-up asks for it
                    yield event
        except Wan26Error as error:
            ended = True
            spend.settle(spent_before(adapter, request, error))
            shown = for_visitor(error, adapter, bool(visitor_key), self.settings.output_dir, lang)
            raise ui_error(shown, lang) from error
        except (gr.Error, GeneratorExit):
            raise
        except Exception as error:  # noqa: BLE001 (the visitor gets one sentence; the log keeps the traceback)
            ended = True
            raise unexpected_error(error, lang) from error
        finally:
            made.done(client.run_dir if client is not None else None)  # failed or stopped: kept by now
            if not ended and task_id and http is not None and http.session_hash:  # stopped while its task ran
                client_for = self.settings.client
                asked = (request.mode, spend, request.prompt, lang)
                sent_in = client.run_dir if client is not None else None  # its result is saved beside its record
                stopped = Stopped(adapter, visitor_key, client_for, task_id, *asked, request.model, sent_in=sent_in)
                self.stopped.follow(stopped, http.session_hash)
            else:  # any ending not settled above: nothing sent costs nothing
                spend.settle(None if spend.sent else 0.0)

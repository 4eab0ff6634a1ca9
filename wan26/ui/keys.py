"""Keys: a visitor's own, kept in their server-side session (or sent by an API caller in a header),
and the vendor picker that follows which keys there are. Keys never reach the page."""

from __future__ import annotations

from typing import Any

import gradio as gr

from wan26.providers import PROVIDERS, get_adapter
from wan26.ui.i18n import Lang, lang_of, t
from wan26.ui.settings import Settings
from wan26.ui.texts import key_status
from wan26.ui.vendors import SessionKeys


def key_header(provider: str) -> str:
    """The header an API caller sends their own key in: named after the vendor, so a key only ever
    reaches the vendor it belongs to."""
    return f"X-{provider.capitalize()}-Key"


def own_key(provider: str, keys: SessionKeys | None, http: gr.Request | None) -> str | None:
    """The visitor's own key for `provider`: its header, else the session's; None means the server's."""
    header = http.headers.get(key_header(provider)) if http is not None else None
    return header or (keys or {}).get(provider) or None


class KeyActions:
    """The private handlers of the key panel and of each page load."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.vendors = settings.vendors

    def status(self, keys: SessionKeys | None, lang: Lang = Lang.EN) -> str:
        return key_status(self.vendors, self.settings.guard, keys, lang)

    def picker(
        self, keys: SessionKeys | None, current: str | None = None, switch: bool = True, lang: Lang = Lang.EN
    ) -> Any:
        """The picker's vendors; `switch=False` leaves a usable choice alone (the visitor may have
        changed it since `current` was read)."""
        mark = {name: t("key_mark", lang) for name in keys or {}}
        usable = self.vendors.available(keys)
        choices = [(get_adapter(name).facts.title + mark.get(name, ""), name) for name in usable]
        if not switch and current in usable:
            return gr.update(choices=choices)
        return gr.update(choices=choices, value=self.vendors.preferred(keys, current) if choices else None)

    def use_key(
        self,
        vendor: str | None,
        text: str,
        keys: SessionKeys | None,
        current: str | None,
        request: gr.Request | None = None,
    ) -> tuple[Any, ...]:
        """Keep a visitor's key for `vendor` in their session; the picker switches to that vendor."""
        key, lang = (text or "").strip(), lang_of(request)
        keys = dict(keys or {})
        if key and (vendor is None or vendor not in PROVIDERS):  # kept in the box, said beside it
            status = t("key_choose_vendor", lang) + "  \n" + self.status(keys, lang)
            return keys, gr.skip(), status, gr.skip(), gr.skip(), gr.skip()
        if key and vendor is not None:
            keys[vendor] = key
            current = vendor
        banner = gr.update(visible=not self.vendors.available(keys))
        return keys, "", self.status(keys, lang), banner, self.picker(keys, current, lang=lang), banner

    def forget(self, current: str | None, request: gr.Request | None = None) -> tuple[Any, ...]:
        lang = lang_of(request)
        banner = gr.update(visible=not self.vendors.server_keyed())
        return {}, "", self.status({}, lang), banner, self.picker({}, current, lang=lang), banner

    def page_loaded(
        self, keys: SessionKeys | None, current: str | None, request: gr.Request | None = None
    ) -> tuple[Any, ...]:
        """Decided per page load, so the picker and banners follow the server's configuration as it is
        now, the key status is in the visitor's language, and with no usable vendor the settings panel
        opens, where a key can be pasted."""
        lang = lang_of(request)
        banner = gr.update(visible=not self.vendors.available(keys))
        panel = gr.Sidebar(open=True) if not self.vendors.available(keys) else gr.skip()
        picker = self.picker(keys, current, switch=False, lang=lang)
        return self.status(keys, lang), banner, picker, banner, panel

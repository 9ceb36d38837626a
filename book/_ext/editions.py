"""The book in two languages: English, the source, and a Korean edition built from catalogs.

The English chapters are the only source. Sphinx's internationalisation extracts their text into
one message catalog per chapter (``locales/ko/LC_MESSAGES/<chapter>.po``), and the Korean site is
the same build with ``language: ko`` (``locales/build.py``; how to translate: ``locales/README.md``).
This extension does four things for both editions:

* It keeps out of the catalogs what a translator must not touch: the outputs of code cells (tables
  and text the code prints, which change with every run), display math, and messages with no words
  in them (a lone formula, a number, a code name). They stay as they are in every edition.
* It lets a translated paragraph use glue. myst-nb looks glued values up in the document being
  parsed, and Sphinx parses each translated message as a document of its own; the lookup falls
  back to the page the message belongs to.
* Every page gets a visible link to the same page in the other edition.
* In the Korean edition, a page with any message the catalog does not translate (the English text
  changed since, or the chapter is not translated yet) opens with a notice saying so, so no
  paragraph is silently English; a chapter listed as translated in ``locales/<lang>/translated.txt``
  with such a message is a warning (an error under ``-W``). The front page says what stays as it
  is: code, math, glued values and plot labels.
"""

from __future__ import annotations

import gettext
import re
from collections import Counter
from functools import cache
from pathlib import Path

from docutils import nodes
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.transforms import SphinxTransform
from sphinx.util import logging
from sphinx.util.i18n import docname_to_domain
from sphinx.util.nodes import extract_messages

logger = logging.getLogger(__name__)

SOURCE_LANGUAGE = "en"
CSS_NAME = "editions.css"
TRANSLATED_LIST = "translated.txt"
LATIN = re.compile("[A-Za-z]")

# What each edition's switch says, in its own language, and the notices of a translated edition.
NAMES = {"en": "English", "ko": "한국어"}
TEXTS = {
    "ko": {
        "untranslated_title": "아직 번역되지 않은 페이지",
        "untranslated": (
            "이 페이지에는 아직 한국어로 옮기지 않은 문단이 {count}개 있어, 그 부분은 영어 원문 "
            "그대로 보입니다. 위의 English 링크로 원문 페이지를 볼 수 있습니다."
        ),
        "front_title": "한국어판에 대하여",
        "front": (
            "이 한국어판은 영어판과 같은 원고에서, 같은 명령으로 만들어집니다. 본문, 제목, 그림 "
            "설명, 연습 문제와 풀이는 한국어로 옮겼지만, 코드, 수식, 계산으로 채워 넣은 값(glue), "
            "그림 안의 축 이름과 범례는 원문 그대로 둡니다. 용어는 용어집을 따르며, 각 페이지에서 "
            "처음 나올 때 영어 용어를 괄호 안에 함께 적습니다."
        ),
    },
}

CSS = """/* The edition switch and notices: see book/_ext/editions.py. */
.edition-switch { text-align: right; font-size: 0.9rem; margin: 0 0 0.5rem; }
.edition-switch a { padding: 0.15rem 0.6rem; border: 1px solid var(--pst-color-border);
  border-radius: 0.25rem; text-decoration: none; }
"""

# --- what a translation must keep -------------------------------------------------------------

# MyST roles: {name}`content`, with one or more backticks.
ROLE = re.compile(r"\{([A-Za-z][\w:+.-]*)\}(`+)(.+?)(?<!`)\2(?!`)", re.S)
# Roles whose content may be "shown text <target>"; the shown text is translated, the target kept.
TITLED_ROLES = {"ref", "doc", "numref", "term", "prf:ref", "eq", "download", "any", "external",
                "std:ref", "std:doc", "std:term"}
TITLED = re.compile(r"^(.*?)\s*<([^<>]+)>$", re.S)
DISPLAY_MATH = re.compile(r"(?<!\\)\$\$(.+?)(?<!\\)\$\$", re.S)
INLINE_MATH = re.compile(r"(?<![\\$])\$(?!\$)((?:\\.|[^$\\])+?)(?<!\\)\$")
CODE = re.compile(r"(`+)(.+?)(?<!`)\1(?!`)", re.S)
LINK_TARGET = re.compile(r"\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
AUTOLINK = re.compile(r"<((?:https?|mailto|ftp):[^>\s]+)>")
BARE_URL = re.compile(r"(?:https?://|www\.)[^\s<>()\[\]]+[^\s<>()\[\].,;:!?'\"]")
SUBSTITUTION = re.compile(r"\{\{\s*([\w.-]+)\s*\}\}")
FOOTNOTE = re.compile(r"\[\^([^\]\s]+)\]")


def markup(message: str) -> Counter:
    """The parts of a message a translation must keep exactly, as a multiset.

    Roles (glue, cite, ref, ...; for a role with a shown text, only its name and target), math
    (``$...$``, ``$$...$$``), inline code, link targets, URLs, substitutions and footnote references.
    The words around them, and the shown text of links and references, are the translator's.
    """
    found: Counter = Counter()

    def role(match: re.Match) -> str:
        name, content = match.group(1), " ".join(match.group(3).split())
        titled = TITLED.match(content) if name in TITLED_ROLES else None
        found[("role", name, titled.group(2).strip() if titled else content)] += 1
        return " "

    def keep(kind: str, group: int = 1):
        def sub(match: re.Match) -> str:
            found[(kind, " ".join(match.group(group).split()))] += 1
            return " "
        return sub

    rest = ROLE.sub(role, message)
    rest = CODE.sub(keep("code", 2), rest)
    rest = DISPLAY_MATH.sub(keep("math"), rest)
    rest = INLINE_MATH.sub(keep("math"), rest)
    rest = SUBSTITUTION.sub(keep("substitution"), rest)
    rest = LINK_TARGET.sub(keep("link"), rest)
    rest = AUTOLINK.sub(keep("link"), rest)
    rest = BARE_URL.sub(keep("link", 0), rest)
    FOOTNOTE.sub(keep("footnote"), rest)
    return found


# A translation may name a formula or a code name twice where Korean repeats a subject that
# English refers back to with "it"; it may not drop one or bring in one the English lacks.
# Roles (a glued value, a citation, a reference), links, substitutions and footnotes it keeps
# exactly as often as the English.
REPEATABLE = {"math", "code"}


def markup_changes(english: str, translation: str) -> tuple[list, list]:
    """What a translation dropped from, and added to, the markup of its English message."""
    source, target = markup(english), markup(translation)
    dropped, added = source - target, target - source
    dropped = [key for key in dropped.elements() if key[0] not in REPEATABLE or key not in target]
    added = [key for key in added.elements() if key[0] not in REPEATABLE or key not in source]
    return sorted(set(dropped)) if dropped else [], sorted(set(added)) if added else []


def words(message: str) -> str:
    """The message without the markup it must keep: the part there is to translate."""
    def shown(match: re.Match) -> str:
        titled = TITLED.match(match.group(3)) if match.group(1) in TITLED_ROLES else None
        return f" {titled.group(1)} " if titled else " "

    rest = ROLE.sub(shown, message)
    for pattern in (CODE, DISPLAY_MATH, INLINE_MATH, SUBSTITUTION, AUTOLINK, BARE_URL, FOOTNOTE):
        rest = pattern.sub(" ", rest)
    return rest


def has_words(message: str) -> bool:
    """Whether a message has anything to translate: a letter outside its math, code and roles."""
    return bool(re.search(r"[^\W\d_]", words(message)))


# --- the two editions -------------------------------------------------------------------------

def language(app_or_config) -> str:
    config = getattr(app_or_config, "config", app_or_config)
    return (config.language or SOURCE_LANGUAGE).split("_")[0]


def is_translation(config) -> bool:
    return language(config) != SOURCE_LANGUAGE


def locale_dir(app: Sphinx) -> Path:
    return Path(app.srcdir) / app.config.locale_dirs[0] / language(app)


def declared_translated(app: Sphinx) -> set[str]:
    """The chapters listed in ``locales/<lang>/translated.txt`` (``#`` starts a comment)."""
    path = locale_dir(app) / TRANSLATED_LIST
    if not path.is_file():
        return set()
    lines = (line.split("#", 1)[0].strip() for line in path.read_text(encoding="utf-8").splitlines())
    return {line for line in lines if line}


@cache
def _compiled(path: str, mtime: float) -> dict[str, str]:
    with open(path, "rb") as handle:
        catalog = gettext.GNUTranslations(handle)._catalog  # noqa: SLF001
    return {key: value for key, value in catalog.items() if isinstance(key, str) and key}


def translations(app: Sphinx, docname: str) -> dict[str, str]:
    """The page's compiled catalog (Sphinx compiles ``.po`` to ``.mo`` before reading): only
    translated, non-fuzzy messages are in it."""
    domain = docname_to_domain(docname, app.config.gettext_compact)
    path = locale_dir(app) / "LC_MESSAGES" / f"{domain}.mo"
    if not path.is_file():
        return {}
    return _compiled(str(path), path.stat().st_mtime)


class Editions(SphinxTransform):
    """Before Sphinx's Locale transform (priority 20) translates the page."""

    default_priority = 15

    def apply(self, **kwargs) -> None:
        if str(self.document.get("source", "")).endswith("<translated>"):
            return  # a translated message, parsed on its own by Sphinx's Locale transform
        self.keep_out_of_catalogs()
        if is_translation(self.config):
            self.count_untranslated()

    def keep_out_of_catalogs(self) -> None:
        # The front matter (a field list before the first section, later the docinfo that Sphinx
        # drops from the page) is metadata, not text.
        front = [child for child in self.document.children
                 if isinstance(child, (nodes.field_list, nodes.docinfo))]
        for node in front:
            for inner in node.findall(nodes.TextElement):
                inner["translatable"] = False
        for node in self.document.findall(nodes.Element):
            if node.get("nb_element") == "cell_code_output" or "cell_output" in node["classes"]:
                # What the code printed stays as it is; a figure's caption (cell metadata) is prose.
                prose = {id(inner) for caption in node.findall(nodes.caption)
                         for inner in caption.findall(nodes.Element)}
                for inner in node.findall(nodes.TextElement):
                    if id(inner) not in prose:
                        inner["translatable"] = False
            elif isinstance(node, nodes.math_block):
                node["translatable"] = False
        for node, message in list(extract_messages(self.document)):
            if isinstance(node, nodes.TextElement) and not has_words(message):
                node["translatable"] = False

    def count_untranslated(self) -> None:
        catalog = translations(self.app, self.env.docname)
        # English text the catalog does not translate. Text the build itself writes in the
        # page's language (sphinx-exercise's 연습/해답 titles) is not English left behind.
        missing = [message for _node, message in extract_messages(self.document)
                   if not catalog.get(message, "").strip() and LATIN.search(words(message))]
        self.env.temp_data["editions_missing"] = missing


class TranslateToctrees(SphinxTransform):
    """Translate the toctree captions (the parts of ``_toc.yml``) and explicit entry titles,
    count what the page leaves untranslated, and add the notices.

    sphinx-external-toc inserts the toctrees at priority 100, after Sphinx's Locale transform
    has run, so their text, which the gettext builder does extract, is never translated there.
    """

    default_priority = 150  # after InsertToctrees (100), before the toctree is collected (880)

    def apply(self, **kwargs) -> None:
        if not is_translation(self.config) or str(self.document.get("source", "")).endswith(
                "<translated>"):
            return
        catalog = translations(self.app, self.env.docname)
        missing = self.env.temp_data.pop("editions_missing", [])
        for toctree in self.document.findall(addnodes.toctree):
            for message in toctree.extract_original_messages():
                if catalog.get(message, "").strip():
                    toctree.apply_translated_message(message, catalog[message])
                else:
                    missing.append(message)
        self.env.editions_untranslated[self.env.docname] = len(missing)
        logger.debug("[editions] %s: untranslated %r", self.env.docname, missing)
        self.add_notices(len(missing))

    def add_notices(self, missing: int) -> None:
        texts = TEXTS.get(language(self.config))
        section = next(iter(self.document.findall(nodes.section)), None)
        if texts is None or section is None:
            return
        position = 1 if section.children and isinstance(section[0], nodes.title) else 0
        if missing:
            section.insert(position, _admonition(
                texts["untranslated_title"], texts["untranslated"].format(count=missing),
                ["warning", "edition-untranslated"]))
        if self.env.docname == self.config.root_doc:
            section.insert(position, _admonition(texts["front_title"], texts["front"],
                                                 ["note", "edition-note"]))


def _admonition(title: str, text: str, classes: list[str]) -> nodes.admonition:
    box = nodes.admonition(classes=classes)
    box += nodes.title(text=title)
    box += nodes.paragraph(text=text)
    return box


def _glue_fallback() -> None:
    """Glue roles in a translated message find their values in the page the message is from.

    myst-nb keeps a page's notebook (and its glue data) on the document only while it parses the
    page, and Sphinx parses each translated message later, as a document of its own. Every glue
    reference of the page is looked up while the page is parsed, so the notebook is remembered
    then, for the page's own messages, in the environment's per-page scratch space.
    """
    from myst_nb.ext.glue import directives, roles, utils

    original = utils.retrieve_glue_data
    if getattr(original, "editions_fallback", False):
        return

    def retrieve_glue_data(document, key):
        env = getattr(document.settings, "env", None)
        if env is not None:
            if "nb_renderer" in document:
                env.temp_data["editions_nb_renderer"] = document["nb_renderer"]
            elif "editions_nb_renderer" in env.temp_data:
                return original({"nb_renderer": env.temp_data["editions_nb_renderer"]}, key)
        return original(document, key)

    retrieve_glue_data.editions_fallback = True
    for module in (utils, roles, directives):
        module.retrieve_glue_data = retrieve_glue_data


# --- bookkeeping of untranslated messages, and the warning for declared chapters --------------

def init_env(app: Sphinx, env, docnames) -> None:
    if not hasattr(env, "editions_untranslated"):
        env.editions_untranslated = {}


def purge(app: Sphinx, env, docname: str) -> None:
    getattr(env, "editions_untranslated", {}).pop(docname, None)


def merge(app: Sphinx, env, docnames, other) -> None:
    env.editions_untranslated.update(
        {name: count for name, count in getattr(other, "editions_untranslated", {}).items()
         if name in docnames})


def check_declared(app: Sphinx, env) -> None:
    if not is_translation(app.config):
        return
    listed = locale_dir(app) / TRANSLATED_LIST
    for docname in sorted(declared_translated(app)):
        if docname not in env.found_docs:
            logger.warning("%s lists %s, which is not a page of the book", listed, docname)
            continue
        count = env.editions_untranslated.get(docname, 0)
        if count:
            logger.warning(
                "%s is listed as translated in %s, but %d of its messages have no translation: "
                "run `make po` and translate them in locales/%s/LC_MESSAGES/%s.po",
                docname, listed, count, language(app), docname, location=docname)


# --- the switch -------------------------------------------------------------------------------

def other_edition(app: Sphinx, pagename: str) -> tuple[str, str]:
    """The other edition's language and the relative URL of this page there."""
    up = "../" * pagename.count("/")
    if is_translation(app.config):
        return SOURCE_LANGUAGE, "../" + up + pagename + ".html"
    target = "ko"
    return target, up + target + "/" + pagename + ".html"


def add_switch(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    if "body" not in context:
        return
    other, url = other_edition(app, pagename)
    name = NAMES.get(other, other)
    context["body"] = (
        f'<div class="edition-switch"><a class="edition-link" href="{url}" hreflang="{other}" '
        f'lang="{other}">{name}</a></div>\n' + context["body"])
    context["metatags"] = context.get("metatags", "") + (
        f'\n<link rel="alternate" hreflang="{other}" href="{url}" />')


def write_css(app: Sphinx) -> None:
    if app.builder.format != "html":
        return
    static = Path(app.outdir) / "_static"
    static.mkdir(parents=True, exist_ok=True)
    (static / CSS_NAME).write_text(CSS, encoding="utf-8")


def setup(app: Sphinx) -> dict:
    _glue_fallback()
    app.add_transform(Editions)
    app.add_transform(TranslateToctrees)
    app.connect("env-before-read-docs", init_env)
    app.connect("env-purge-doc", purge)
    app.connect("env-merge-info", merge)
    app.connect("env-check-consistency", check_declared)
    app.connect("builder-inited", write_css)
    app.connect("html-page-context", add_switch)
    app.add_css_file(CSS_NAME)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "env_version": 1}

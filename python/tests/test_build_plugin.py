"""SameOriginBuild: the production bundle talks to the origin that served it."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from reflex_base import constants

from reflex_django.build import BUNDLE_MARK, SAME_ORIGIN_FLAG, SameOriginBuild, patch_state_js


def _reflex_state_js() -> str:
    """The `utils/state.js` this Reflex copies into `.web`."""
    template = Path(constants.Templates.Dirs.WEB_TEMPLATE) / "utils" / "state.js"
    return template.read_text()


def test_patches_reflexs_get_backend_url_once() -> None:
    original = _reflex_state_js()
    patched = patch_state_js(original)
    assert patched != original
    assert patch_state_js(patched) == patched
    # An older patch (another version of reflex-django) is replaced, not stacked.
    older = patched.replace("window.location.host;\n", "window.location.host; /* old */\n", 1)
    assert patch_state_js(older) == patched
    function = patched[patched.index("export const getBackendURL") :]
    body = function[: function.index("\n};")]
    # The page's origin is used before Reflex's own host swap, in production only.
    ours = body.index(f"env.{SAME_ORIGIN_FLAG}")
    assert "import.meta.env.PROD" in body[: ours + 100]
    assert ours < body.index("SAME_DOMAIN_HOSTNAMES.includes")
    assert "endpoint.host = window.location.host" in body
    assert f"window.{BUNDLE_MARK} = true" in body


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node")
def test_the_patched_module_is_valid_javascript(tmp_path: Path) -> None:
    module = tmp_path / "state.mjs"
    module.write_text(patch_state_js(_reflex_state_js()))
    checked = subprocess.run(["node", "--check", str(module)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr


def test_an_unknown_state_js_is_left_alone(caplog: pytest.LogCaptureFixture) -> None:
    text = "export const somethingElse = () => 1;\n"
    assert patch_state_js(text) == text
    assert "getBackendURL" in caplog.text


def test_registers_the_patch_and_the_flag() -> None:
    tasks: list[tuple[str, object]] = []
    plugin = SameOriginBuild()
    plugin.pre_compile(add_modify_task=lambda path, fn: tasks.append((path, fn)))  # type: ignore[call-arg]
    assert tasks == [("utils/state.js", patch_state_js)]
    assert plugin.update_env_json() == {SAME_ORIGIN_FLAG: True}

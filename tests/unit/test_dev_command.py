"""What the dev command gives the app when it stands the local provider in for Logto."""

from __future__ import annotations

from typing import TypeVar

from app.config import Settings
from devstack.__main__ import DEV_DIRECT_SIGN_IN, DevStack
from devstack.process import ManagedProcess

PartT = TypeVar("PartT", bound=ManagedProcess)


class PlannedStack(DevStack):
    """The dev command's plan without starting anything."""

    def _start(self, part: PartT) -> PartT:
        self.parts.append(part)
        return part


def test_the_local_provider_comes_with_two_demo_connector_buttons() -> None:
    stack = PlannedStack({})
    stack._use_idp()
    assert stack.app_env["LOGTO_DIRECT_SIGN_IN"] == DEV_DIRECT_SIGN_IN
    settings = Settings(_env_file=None, LOGTO_DIRECT_SIGN_IN=stack.app_env["LOGTO_DIRECT_SIGN_IN"])
    labels = [entry.label for entry in settings.direct_sign_in]
    assert labels == ["Microsoft", "Acme SSO"]
    assert any("Continue with Microsoft" in note for note in stack.notes)


def test_the_developers_buttons_or_tenant_are_left_alone() -> None:
    own = PlannedStack({"LOGTO_DIRECT_SIGN_IN": "social:google=Google"})
    own._use_idp()
    assert "LOGTO_DIRECT_SIGN_IN" not in own.app_env, "the app reads the developer's own"
    tenant = PlannedStack({"LOGTO_ENDPOINT": "https://tenant.logto.app"})
    tenant._use_idp()
    assert "LOGTO_DIRECT_SIGN_IN" not in tenant.app_env

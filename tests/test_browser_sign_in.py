"""Real-browser sign-in: a real OpenID Connect provider (oidc-provider-mock, on 127.0.0.1) and local accounts.

Two people, each in their own browser context, sign in to one Insight; each sees only their own runs until
one is shared; the other cannot cancel, download or open the first one's run, even by typing its id into
the address bar; signing out ends access. Local accounts: the same, plus a wrong password refused.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser_kit import CHROMIUM, FLAGS, free_port, go, settle, start_streamlit, stop
from helpers import fake_run
from playwright.sync_api import expect

from trainer import runs
from trainer.access import owners, users
from trainer.files import locks
from trainer.runs import RunFolder

ROOT = Path(__file__).resolve().parent.parent
LONG = 120_000
ANA, BO = "ana@team.example", "bo@team.example"
GOLD = ["positive", "negative", "neutral"] * 10


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make chromium` first.", pytrace=False)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        expect.set_options(timeout=LONG)
        try:
            yield launched
        finally:
            launched.close()


def person(browser):
    """A browser context of its own: its own cookies, as a second person on another computer."""
    context = browser.new_context(viewport={"width": 1300, "height": 950})
    context.set_default_timeout(LONG)
    return context, context.new_page()


@pytest.fixture
def provider():
    """A real OpenID Connect provider on 127.0.0.1 with two people in it."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "oidc_provider_mock", "--host", "127.0.0.1", "--port", str(port),
                             "--user", ANA, "--user", BO], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/.well-known/openid-configuration", timeout=2):
                break
        except OSError:
            time.sleep(0.2)
    else:
        proc.kill()
        pytest.fail("the OpenID Connect provider did not start")
    try:
        yield url
    finally:
        proc.terminate()
        proc.wait(15)


@contextlib.contextmanager
def team_app(
    tmp_path: Path, ana: str, bo: str, extra_env: dict, args: list[str]
) -> Iterator[tuple[str, Path, Path]]:
    """The app over a runs folder with ana's finished run and her running job (a live process holds it) and
    bo's finished run; the device lock is held, so nothing real starts. Yields (url, ana's finished run, her
    job); the app, the process and the lock are gone afterwards."""
    runs_dir = tmp_path / "runs"
    made = {}
    for who, name in ((ana, "ana-finished"), (bo, "bo-finished"), (ana, "ana-training")):
        made[name] = fake_run(runs_dir, name, GOLD, GOLD)
        owners.set_owner(made[name], who)
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    RunFolder(made["ana-training"]).write_status(runs.RUNNING, name="ana-training", pid=sleeper.pid)
    lock = locks.try_lock(locks.device_lock_file(runs_dir))
    port = free_port()
    env = {"INSIGHT_RUNS_DIR": str(runs_dir), "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false",
           "INSIGHT_LOCAL_OWNER": "nobody-local", **extra_env}  # fmt: skip
    log = (tmp_path / "streamlit.log").open("w+")
    try:
        app = start_streamlit("app.py", port, env, output=log, extra=args)
        try:
            yield f"http://127.0.0.1:{port}", made["ana-finished"], made["ana-training"]
        finally:
            stop(app)
    finally:
        sleeper.kill()
        sleeper.wait()
        if lock is not None:
            os.close(lock)
        log.seek(0)
        print(log.read()[-4000:])


@pytest.fixture
def two_people(browser):
    """ana's and bo's pages, each in a browser context of its own (closed afterwards)."""
    contexts = [person(browser), person(browser)]
    try:
        yield contexts[0][1], contexts[1][1]
    finally:
        for context, _ in contexts:
            context.close()


def names_on_train_page(page, expected: str) -> str:
    """The Train page's text once `expected` (a run of the runs table) is drawn."""
    go(page, "Train")
    main = page.locator('[data-testid="stMain"]')
    expect(main).to_contain_text(expected)
    settle(page)
    return main.text_content()


def assert_sees_only_own(page, url: str, own: str, other_run: Path) -> None:
    text = names_on_train_page(page, own)
    assert "ana-finished" not in text and "ana-training" not in text
    expect(page.get_by_role("button", name="Cancel")).to_have_count(0)  # no one else's job to cancel
    expect(
        page.locator('[data-testid="stSidebar"]').get_by_text("another person's job").first
    ).to_be_visible()
    go(page, "Export")
    assert "ana-finished" not in page.locator("body").text_content(), "nothing of hers to download"
    for where in (f"/evaluate?run={other_run.name}", f"/export?run={other_run}", f"/{other_run.name}"):
        page.goto(url + where)  # typing the other's run id into the address bar opens nothing of it
        page.get_by_role("heading", level=1).first.wait_for()
        settle(page)
        assert "ana-finished" not in page.locator("body").text_content()
    page.goto(url)  # back home (an unknown page leaves Streamlit's "page not found" dialog open)
    page.get_by_role("heading", level=1).first.wait_for()
    settle(page)


def oidc_sign_in(page, url: str, who: str) -> None:
    page.goto(url)
    page.get_by_role("heading", name="Sign in to Insight").wait_for()
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name=who).click()  # the provider's own page: a predefined person
    page.get_by_role("heading", name="Data", level=1).wait_for()
    settle(page)
    expect(page.locator('[data-testid="stSidebar"]').get_by_text(who)).to_be_visible()


def sign_out(page, url: str) -> None:
    page.locator('[data-testid="stSidebar"]').get_by_role("button", name="Sign out").click()
    end = page.get_by_role("button", name="End session")  # the provider may ask to end its session too
    signed_out = page.get_by_role("heading", name="Sign in to Insight")
    end.or_(signed_out).first.wait_for()
    if end.is_visible():
        end.click()
        signed_out.wait_for()
    page.goto(f"{url}/train")
    page.get_by_role("heading", name="Sign in to Insight").wait_for()
    assert "bo-finished" not in page.locator("body").text_content(), "signing out ends access"


def test_two_people_sign_in_with_openid_connect_and_see_only_their_own_work(two_people, provider, tmp_path):
    ana, bo = two_people
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(f'''[auth]
redirect_uri = "http://127.0.0.1:{{port}}/oauth2callback"
cookie_secret = "{os.urandom(16).hex()}"
client_id = "insight"
client_secret = "not-a-real-secret"
server_metadata_url = "{provider}/.well-known/openid-configuration"
''')
    oidc = ({"AUTHLIB_INSECURE_TRANSPORT": "1"}, ["--secrets.files", str(secrets)])
    with team_app(tmp_path, ANA, BO, *oidc) as (url, ana_run, training):
        oidc_sign_in(bo, url, BO)
        assert_sees_only_own(bo, url, "bo-finished", ana_run)
        oidc_sign_in(ana, url, ANA)
        text = names_on_train_page(ana, "ana-finished")
        assert "ana-finished" in text and "ana-training" in text and "bo-finished" not in text
        expect(ana.get_by_role("button", name="Cancel")).to_be_visible()  # her own job: she may cancel it
        owners.share(ana_run, [BO])  # as the Share box on Train does (tested in AppTest)
        assert "ana-finished" in names_on_train_page(bo, "ana-finished"), "shared with bo: now listed for him"
        sign_out(bo, url)
        assert RunFolder(training).read_status().status == runs.RUNNING, "nobody cancelled her job"


def local_sign_in(page, url: str, name: str, password: str) -> None:
    page.goto(url)
    page.get_by_role("heading", name="Sign in to Insight").wait_for()
    settle(page)
    page.get_by_label("Name").fill(name)
    page.get_by_role("textbox", name="Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    settle(page)


def test_two_people_sign_in_with_local_accounts_and_a_wrong_password_is_refused(two_people, tmp_path):
    ana, bo = two_people
    users.add(tmp_path / "runs", "ana", "ana-password")
    users.add(tmp_path / "runs", "bo", "bo-password")
    with team_app(tmp_path, "ana", "bo", {}, []) as (url, ana_run, training):
        local_sign_in(bo, url, "bo", "not-his-password")
        expect(bo.get_by_text("Wrong name or password.")).to_be_visible()
        expect(bo.get_by_role("heading", name="Data", level=1)).to_have_count(0)
        local_sign_in(bo, url, "bo", "bo-password")
        bo.get_by_role("heading", name="Data", level=1).wait_for()
        assert_sees_only_own(bo, url, "bo-finished", ana_run)
        local_sign_in(bo, url, "bo", "bo-password")  # a local session lives as long as the browser tab's
        local_sign_in(ana, url, "ana", "ana-password")
        text = names_on_train_page(ana, "ana-finished")
        assert "ana-finished" in text and "bo-finished" not in text
        owners.share(ana_run, [owners.EVERYONE])
        assert "ana-finished" in names_on_train_page(bo, "ana-finished")
        bo.locator('[data-testid="stSidebar"]').get_by_role("button", name="Sign out").click()
        bo.get_by_role("heading", name="Sign in to Insight").wait_for()
        bo.goto(f"{url}/train")
        bo.get_by_role("heading", name="Sign in to Insight").wait_for()
        assert "bo-finished" not in bo.locator("body").text_content(), "signing out ends access"
        assert RunFolder(training).read_status().status == runs.RUNNING

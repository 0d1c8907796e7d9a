"""Settings: every knob of andon in one object, from `ANDON_*` environment variables or `andon.toml`."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

PROJECT_DIR = Path(__file__).resolve().parent
DEFAULT_SOURCES = PROJECT_DIR / "sources.toml"

# US market pay by career level (BLS OES May 2023: production managers, median $107,430;
# the per-level figures are the dated table). Shown beside a job's salary in digests.
MARKET_PAY_USD: dict[str, Any] = {
    "as_of": "BLS OES May 2023",
    "all": 107_430,
    "supervisor": 65_000,
    "assistant": 70_000,
    "manager": 90_000,
    "senior": 118_000,
    "director": 150_000,
    "executive": 205_000,
}

# Shown where ANDON_POSTAL_ADDRESS is unset; the smtp and sendgrid mailers refuse to send with it.
POSTAL_PLACEHOLDER = (
    "[placeholder postal address: set ANDON_POSTAL_ADDRESS before sending real mail]"
)


class Settings(BaseSettings):
    """All of andon's configuration; built once at the edge (CLI, web, scheduler) and passed in."""

    model_config = SettingsConfigDict(
        env_prefix="ANDON_", toml_file="andon.toml", extra="ignore", frozen=False
    )

    database_url: str = "sqlite:///andon.db"
    mailer: Literal["file", "smtp", "sendgrid"] = "file"
    outbox: Path = Path("outbox")
    from_email: str = "andon <alerts@andon.localhost>"
    reply_to: str | None = None
    unsubscribe_mailto: str | None = None  # a mailbox you process; no mailto: advertised without it
    base_url: str = "http://127.0.0.1:8000"
    secret_key: SecretStr | None = None
    secret_key_file: Path = Path(".andon-secret")
    sources: Path = DEFAULT_SOURCES
    redis_url: str | None = None
    postal_address: str | None = None  # required by the smtp and sendgrid mailers (CAN-SPAM)
    list_id: str = "andon job alerts <alerts.andon.localhost>"
    operator_email: str | None = None
    operator_token: SecretStr | None = None

    smtp_url: SecretStr | None = None  # smtp://user:pass@host:587
    smtp_timeout: float = 30.0
    sendgrid_api_key: SecretStr | None = None
    sendgrid_host: str = "https://api.sendgrid.com"
    sendgrid_timeout: float = 30.0
    sendgrid_webhook_public_key: str | None = None

    user_agent: str = "andon-jobs/0.1 (+https://github.com/andon-jobs/andon)"
    contact_url: str = "https://github.com/andon-jobs/andon"
    crawl_timeout_s: int = 3600
    digest_cap: int = 25
    confirm_max_age_s: int = 7 * 24 * 3600
    role_profile: Path | None = (
        None  # a TOML file overriding the relevance include/exclude patterns
    )
    # Scrapy settings laid over ours, e.g. {"DOWNLOAD_DELAY": 0} for a local mirror (JSON in env)
    scrapy_overrides: dict[str, Any] = Field(default_factory=dict)
    # Scrapyd nodes that run the crawls instead of local child processes (comma-separated URLs)
    scrapyd_urls: str | None = None
    market_pay: dict[str, Any] = Field(default_factory=lambda: dict(MARKET_PAY_USD))

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml_path = Path(os.environ.get("ANDON_CONFIG", "andon.toml"))
        return (
            init_settings,
            env_settings,
            TomlConfigSettingsSource(settings_cls, toml_file=toml_path),
            file_secret_settings,
        )

    @field_validator("base_url")
    @classmethod
    def _strip_slash(cls, v: str) -> str:
        return v.rstrip("/")

    def secret(self) -> str:
        """The signing key: from the environment, else generated once and kept in a 0600 file."""
        if self.secret_key is not None:
            return self.secret_key.get_secret_value()
        path = self.secret_key_file
        if path.exists():
            return path.read_text().strip()
        key = secrets.token_urlsafe(48)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(key)
        return key

    def scrapyd_nodes(self) -> list[str]:
        """The Scrapyd nodes' base URLs, without trailing slashes; empty when crawls run here."""
        return [u.strip().rstrip("/") for u in (self.scrapyd_urls or "").split(",") if u.strip()]

    def from_domain(self) -> str:
        addr = self.from_email.rsplit("<", 1)[-1].rstrip(">").strip()
        return addr.rsplit("@", 1)[-1]

    def postal_line(self) -> str:
        """The postal address for footers, or a placeholder that says it is one (file mailer)."""
        return (self.postal_address or "").strip() or POSTAL_PLACEHOLDER


def load_settings(**overrides: Any) -> Settings:
    """Build the settings from environment and `andon.toml`, with explicit overrides on top."""
    return Settings(**overrides)

"""The TOML config file, read once at startup and validated into frozen dataclasses.

Every problem becomes one `ConfigError` whose text is a single line, `FILE: KEY: what is wrong`,
because `check-config` and the daemon print it as is and exit 1 (DESIGN.md section 6).

Validation is written out here rather than delegated to pydantic: a typo must be reported as the
unknown key it is, before the "missing" error it causes; a password must never be echoed back
in a message that ends up in a log; and each message should read the same across library
upgrades. Relative paths are resolved against the config file's directory, never the working
directory, so the daemon behaves the same whichever directory it is started from.


The package: `model.py` (what a validated config is), `loading.py` (reading the file, section by
section), `table.py` (one TOML table read with care, and `ConfigError`) and `oauth2.py` (the
`[oauth2]` tables and their providers' keys).
"""

from .loading import load_settings
from .model import (
    Audience,
    Backend,
    DeliverySettings,
    ImapIntakeSettings,
    LetterSettings,
    PeopleSettings,
    ProgramSettings,
    QuestionKind,
    RelaySettings,
    RoundSettings,
    ScheduleSettings,
    Security,
    SecuritySettings,
    SendRate,
    Settings,
    SmtpIntakeSettings,
    StoreSettings,
    SurveyQuestion,
    SurveySettings,
    TopicSettings,
    Weekday,
)
from .oauth2 import PROVIDERS as OAUTH2_PROVIDERS
from .oauth2 import (
    AuthMethod,
    GenericOAuth2Settings,
    GoogleOAuth2Settings,
    MicrosoftOAuth2Settings,
    OAuth2Settings,
    read_secret,
)
from .table import ConfigError

__all__ = [
    "OAUTH2_PROVIDERS",
    "Audience",
    "AuthMethod",
    "Backend",
    "ConfigError",
    "DeliverySettings",
    "GenericOAuth2Settings",
    "GoogleOAuth2Settings",
    "ImapIntakeSettings",
    "LetterSettings",
    "MicrosoftOAuth2Settings",
    "OAuth2Settings",
    "PeopleSettings",
    "ProgramSettings",
    "QuestionKind",
    "RelaySettings",
    "RoundSettings",
    "ScheduleSettings",
    "Security",
    "SecuritySettings",
    "SendRate",
    "Settings",
    "SmtpIntakeSettings",
    "StoreSettings",
    "SurveyQuestion",
    "SurveySettings",
    "TopicSettings",
    "Weekday",
    "load_settings",
    "read_secret",
]

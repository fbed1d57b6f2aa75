"""The demo dealership of the design, with fixed ids so every service agrees on them."""

from uuid import UUID

ACCOUNT_ID = UUID("00000000-0000-4000-8000-00000000d001")
ACCOUNT_NAME = "Demo Motors"
NUMBER_ID = UUID("00000000-0000-4000-8000-00000000d101")
DEALERSHIP_NUMBER = "+15145550100"
TWILIO_ACCOUNT_SID = "AC00000000000000000000000000000001"
TWILIO_AUTH_TOKEN = "demo-twilio-auth-token"
# A second number on Telnyx. The key pair is a demo one: the simulator signs with the private
# key, ingest is seeded with the public key (a real account's private key stays at Telnyx).
TELNYX_NUMBER_ID = UUID("00000000-0000-4000-8000-00000000d102")
TELNYX_NUMBER = "+15145550101"
TELNYX_PRIVATE_KEY = "pXb1e7fCIEUN5WUgQtOgaKYI2qXbaJj8nUNXAQNVfNA="
TELNYX_PUBLIC_KEY = "H0WAqBOx6r+15jsIuCp9YZS5GX3SnAFIOxS3JWY1UMM="
# What notifier sends with (the simulator accepts any key unless told otherwise).
TELNYX_API_KEY = "KEY-demo-telnyx-api-key"
# A DMS integration: POST /api/v1/dms/events on ingest with `Authorization: Bearer <secret>`.
DMS_INTEGRATION_ID = UUID("00000000-0000-4000-8000-00000000d401")
DMS_INTEGRATION_NAME = "Demo DMS"
DMS_INTEGRATION_SECRET = "demo-dms-integration-secret"
ADMIN_ID = UUID("00000000-0000-4000-8000-00000000d201")
ADMIN_EMAIL = "admin@demo.switchboard.test"
AGENT_ID = UUID("00000000-0000-4000-8000-00000000d202")
AGENT_EMAIL = "agent@demo.switchboard.test"
PASSWORD = "switchboard-demo"
TEAM_ID = UUID("00000000-0000-4000-8000-00000000d301")
TEAM_NAME = "Service"
